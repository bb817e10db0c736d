// How fast, and in how much memory, does our diff compare two snapshots of a big heap, next to
// memlab's heap parser on the same files (or, without memlab, a naive JSON.parse diff)?
// Run: npx tsx bench/diff.ts [--heap-mb 200]
// memlab is optional: install it in a scratch dir and point MEMLAB_DIR there, e.g.
//   mkdir /tmp/memlab && cd /tmp/memlab && npm init -y && PUPPETEER_SKIP_DOWNLOAD=1 npm i @memlab/core
//   MEMLAB_DIR=/tmp/memlab npx tsx bench/diff.ts
// Each contender runs in a fresh child process; its peak RSS is the child's own getrusage maxRSS.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { diffHeapSnapshots } from '../analysis/index.js'
import { REPORT, measureOf, printMeasure } from './child-measure.js'
import type { Measure } from './child-measure.js'

const GOAL_SECONDS = 30
const GOAL_RSS_BYTES = 1.5e9
const GOAL_SPEEDUP = 2

// The heap: small objects of one class, retained from a global. Between the snapshots a tenth
// of them go away and new objects of another class arrive, as in a slow leak.
const GENERATE = `
const v8 = require('node:v8')
const [before, after, heapMb] = process.argv.slice(1)
class Item { constructor (i) { this.id = i; this.label = 'item-' + i; this.tags = [i & 7, i & 15] } }
class Arrival { constructor (i) { this.id = i; this.label = 'arrival-' + i } }
globalThis.items = []
let i = 0
while (process.memoryUsage().heapUsed < Number(heapMb) * 1e6) for (let k = 0; k < 10000; k++) items.push(new Item(i++))
const heapUsed = process.memoryUsage().heapUsed
v8.writeHeapSnapshot(before)
items.splice(0, items.length / 10)
globalThis.arrivals = []
for (let k = 0; k < i / 10; k++) arrivals.push(new Arrival(k))
v8.writeHeapSnapshot(after)
console.log(JSON.stringify({ objects: i, arrivals: arrivals.length, heapUsed }))
`

// memlab's own parser (the one behind getFullHeapFromFile) on both files, then the objects of
// the later heap whose id the earlier one lacks, by name: the same question our diff answers.
const MEMLAB = `
const { utils } = require(require('node:path').join(process.env.MEMLAB_DIR, 'node_modules/@memlab/core'))
const [beforePath, afterPath] = process.argv.slice(1)
const started = performance.now()
;(async () => {
  const before = await utils.getSnapshotFromFile(beforePath, { buildNodeIdIndex: true })
  const after = await utils.getSnapshotFromFile(afterPath, { buildNodeIdIndex: true })
  const added = new Map()
  after.nodes.forEach((node) => {
    if (node.self_size > 0 && before.getNodeById(node.id) == null) added.set(node.name, (added.get(node.name) || 0) + 1)
  })
  const [top] = [...added].sort((a, b) => b[1] - a[1])
  report(started, 'top new: ' + top[0] + ' +' + top[1])
})()
`

// The obvious way: JSON.parse each file whole. Fails once a file is longer than V8's maximum
// string length (about 512 MiB), which is why the parser streams.
const NAIVE = `
const { readFileSync } = require('node:fs')
const [beforePath, afterPath] = process.argv.slice(1)
const started = performance.now()
const objects = (path) => {
  const raw = JSON.parse(readFileSync(path, 'utf8'))
  const fields = raw.snapshot.meta.node_fields
  const [types] = raw.snapshot.meta.node_types
  const byKey = new Map()
  for (let i = 0; i < raw.nodes.length; i += fields.length) {
    const type = types[raw.nodes[i + fields.indexOf('type')]]
    const name = type === 'object' || type === 'native' ? raw.strings[raw.nodes[i + fields.indexOf('name')]] : '(' + type + ')'
    byKey.set(name + '\\u0000' + raw.nodes[i + fields.indexOf('id')], name)
  }
  return byKey
}
try {
  const before = objects(beforePath)
  const added = new Map()
  for (const [key, name] of objects(afterPath)) if (!before.has(key)) added.set(name, (added.get(name) || 0) + 1)
  const [top] = [...added].sort((a, b) => b[1] - a[1])
  report(started, 'top new: ' + top[0] + ' +' + top[1])
} catch (err) {
  report(started, err.message, false)
}
`

function run (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout)
      else reject(new Error(`${args.slice(0, 2).join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`))
    })
  })
}

async function measure (args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Measure> {
  return await measureOf(run(args, env))
}

/** In the child: our diff, as the CLI runs it. */
async function measureOurs (before: string, after: string): Promise<void> {
  const started = performance.now()
  const diff = await diffHeapSnapshots(before, after, { top: 1 })
  const top = diff.rows[0]
  printMeasure(started, `top new: ${top?.className} +${top?.addedCount}; ${diff.before.nodeCount} → ${diff.after.nodeCount} nodes; path ${diff.retainerPaths[0]?.text}`)
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

function line (name: string, m: Measure): string {
  const figures = m.ok ? `${seconds(m.wallMs).padStart(8)} ${seconds(m.cpuMs).padStart(8)} ${mb(m.maxRssBytes).padStart(9)}` : '  failed'
  return `${name.padEnd(22)}${figures}   ${m.note}`
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { 'heap-mb': { type: 'string', default: '200' } } })
  const heapMb = Number(values['heap-mb'])
  const memlabDir = process.env['MEMLAB_DIR']
  const withMemlab = memlabDir !== undefined && existsSync(join(memlabDir, 'node_modules/@memlab/core'))
  const dir = await mkdtemp(join(tmpdir(), 'diff-bench-'))
  try {
    const before = join(dir, 'before.heapsnapshot')
    const after = join(dir, 'after.heapsnapshot')
    console.log(`Writing two snapshots of a ~${heapMb} MB heap of small objects (in a child process; takes a while)...`)
    const generated = JSON.parse(await run(['--max-old-space-size=8192', '-e', GENERATE, before, after, String(heapMb)])) as { objects: number, arrivals: number, heapUsed: number }
    console.log(`heapUsed ${mb(generated.heapUsed)}, ${generated.objects} objects, then ${generated.arrivals} arrivals and as many gone;` +
      ` files: ${mb((await stat(before)).size)} and ${mb((await stat(after)).size)}\n`)

    const ours = await measure(['--import', 'tsx', fileURLToPath(import.meta.url), '--measure-ours', before, after])
    const other = withMemlab
      ? { name: 'memlab (@memlab/core)', m: await measure(['--max-old-space-size=16384', '-e', REPORT + MEMLAB, before, after], { MEMLAB_DIR: memlabDir }) }
      : { name: 'naive JSON.parse', m: await measure(['--max-old-space-size=16384', '-e', REPORT + NAIVE, before, after]) }
    if (!withMemlab) console.log('memlab skipped: set MEMLAB_DIR to a directory where @memlab/core is installed.\n')

    console.log(`${''.padEnd(22)}${'wall'.padStart(8)} ${'cpu'.padStart(8)} ${'peak RSS'.padStart(9)}`)
    console.log(line('ours (streaming)', ours))
    console.log(line(other.name, other.m))
    if (ours.ok && other.m.ok) {
      console.log(`\nratio: ${(other.m.wallMs / ours.wallMs).toFixed(1)}× faster (wall), ${(other.m.cpuMs / ours.cpuMs).toFixed(1)}× less CPU,` +
        ` ${(other.m.maxRssBytes / ours.maxRssBytes).toFixed(1)}× less peak RSS`)
    }
    if (ours.ok) {
      const goals = [
        `≤ ${GOAL_SECONDS} s: ${ours.wallMs <= GOAL_SECONDS * 1000 ? 'met' : 'MISSED'}`,
        `≤ ${mb(GOAL_RSS_BYTES)} peak RSS: ${ours.maxRssBytes <= GOAL_RSS_BYTES ? 'met' : 'MISSED'}`,
        ...(withMemlab && other.m.ok ? [`≥ ${GOAL_SPEEDUP}× faster than memlab: ${other.m.wallMs >= GOAL_SPEEDUP * ours.wallMs ? 'met' : 'MISSED'}`] : [])
      ]
      console.log(`goals: ${goals.join('; ')}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--measure-ours') {
  await measureOurs(process.argv[3] as string, process.argv[4] as string)
} else {
  await main()
}
