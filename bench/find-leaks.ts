// Leak finding over three snapshots of one process, ours (findLeaks, with dominators and
// retained sizes) next to memlab's (findLeaksBySnapshotFilePaths: the `memlab find-leaks
// --baseline --target --final` pipeline, which also computes dominators and retained sizes),
// on the same files, alternating, several runs. Each run is a fresh child process; peak RSS is
// the child's own getrusage maxRSS.
// Run: npm run bench:find-leaks -- [--nodes 500000] [--runs 3]
//   BASELINE_DIR=<another checkout> measures its finder on the same files, alternating with ours.
//   memlab is not a dependency (it pulls puppeteer, whose install downloads Chrome): install it in a
//   scratch dir and point MEMLAB_DIR there, e.g.
//   mkdir /tmp/memlab && cd /tmp/memlab && npm init -y && PUPPETEER_SKIP_DOWNLOAD=1 npm i memlab@2
//   MEMLAB_DIR=/tmp/memlab npm run bench:find-leaks
//   --nodes 5000000 is the size of the goal (three snapshots of 5M nodes); writing them takes
//   ~3 GB of native memory in the generating process, which runs in a memory cgroup when it can.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { findLeaks } from '../analysis/index.js'
import { REPORT, measureOf, printMeasure } from './child-measure.js'
import type { Measure } from './child-measure.js'

const GOAL_SPEEDUP = 3
const GOAL_MEMORY_SHARE = 0.5
const GOAL_RSS_BYTES = 2e9
const CGROUP_ROOT = '/sys/fs/cgroup/memory'

// A heap of about `nodes` nodes: Items (an object, a string, an array each) retained from a
// global. Each round then leaks Sessions into a Map (1 in 100 of the nodes) and leaves as many
// in-flight Requests that the next round drops.
const GENERATE = `
const v8 = require('node:v8')
const [dir, nodes] = process.argv.slice(1)
class Item { constructor (i) { this.id = i; this.label = 'item-' + i; this.tags = [i & 7, i & 15] } }
class Session { constructor (i) { this.id = i; this.user = 'user-' + i } }
class Request { constructor (i) { this.id = i; this.body = { n: i } } }
globalThis.items = []
globalThis.sessions = new Map()
globalThis.inflight = []
const perRound = Math.round(Number(nodes) / 100)
for (let i = 0; i < Number(nodes) / 3; i++) items.push(new Item(i))
let n = 0
for (const name of ['a', 'b', 'c']) {
  inflight = []
  for (let k = 0; k < perRound; k++, n++) {
    sessions.set('s' + n, new Session(n))
    inflight.push(new Request(n))
  }
  v8.writeHeapSnapshot(dir + '/' + name + '.heapsnapshot')
}
console.log(JSON.stringify({ perRound, heapUsed: process.memoryUsage().heapUsed }))
`

const MEMLAB = `
const { findLeaksBySnapshotFilePaths } = require(require('node:path').join(process.env.MEMLAB_DIR, 'node_modules/memlab'))
const [a, b, c, workDir] = process.argv.slice(1)
const started = performance.now()
findLeaksBySnapshotFilePaths(a, b, c, { workDir, consoleMode: 'SILENT' }).then((leaks) => {
  report(started, leaks.length + ' leak traces')
}, (err) => report(started, String(err && err.message), false))
`

function run (args: readonly string[], cgroup?: string): Promise<string> {
  const [command, argv] = cgroup === undefined
    ? [process.execPath, args]
    : ['sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$0" "$@"`, process.execPath, ...args]]
  return new Promise((resolve, reject) => {
    execFile(command, argv as string[], { maxBuffer: 1 << 26, cwd: fileURLToPath(new URL('..', import.meta.url)) }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout)
      else reject(new Error(`${args.slice(0, 3).join(' ')} failed: ${err.message.split('\n')[0]}\n${stderr.slice(-1000)}`))
    })
  })
}

async function measure (args: readonly string[]): Promise<Measure> {
  return await measureOf(run(args))
}

/** In the child: our finder, as the CLI runs it. */
async function measureOurs (files: string[]): Promise<void> {
  const started = performance.now()
  const report = await findLeaks(files, { top: 1 })
  const top = report.candidates[0]
  printMeasure(started, `first: ${top?.className} ${top?.countPerInterval.join('/')} per interval, retained ${top?.retainedBytes} B, ${top?.collection.kind} ${top?.collection.label}`)
}

/** A memory cgroup for the generator, or undefined when this machine has none we can use. */
async function makeCgroup (limitBytes: number): Promise<string | undefined> {
  if (!existsSync(CGROUP_ROOT)) return undefined
  const path = join(CGROUP_ROOT, `find-leaks-bench-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(path)
    await writeFile(join(path, 'memory.limit_in_bytes'), String(limitBytes))
    return path
  } catch {
    return undefined
  }
}

async function nodeCountOf (file: string): Promise<string | undefined> {
  const handle = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0)
    return /"node_count":(\d+)/.exec(buffer.toString('utf8', 0, bytesRead))?.[1]
  } finally {
    await handle.close()
  }
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const spread = (values: readonly number[], format: (n: number) => string): string =>
  `${format(median(values)).padStart(8)} (${format(Math.min(...values))}–${format(Math.max(...values))})`

function summary (name: string, runs: readonly Measure[]): string {
  const ok = runs.filter((m) => m.ok)
  if (ok.length === 0) return `${name.padEnd(10)} failed: ${runs[0]?.note}`
  return `${name.padEnd(10)}${spread(ok.map((m) => m.wallMs), seconds)}  ${spread(ok.map((m) => m.cpuMs), seconds)}  ` +
    `${spread(ok.map((m) => m.maxRssBytes), mb)}   ${ok.length}/${runs.length} ok; ${ok[0]?.note}`
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '500000' }, runs: { type: 'string', default: '3' } } })
  const nodes = Number(values.nodes)
  const runs = Number(values.runs)
  const dir = await mkdtemp(join(tmpdir(), 'find-leaks-bench-'))
  // About 1.4 KB of native memory per node while V8 writes a snapshot, plus the heap itself.
  const cgroup = await makeCgroup(Math.max(1e9, nodes * 1400 + 1e9))
  try {
    console.log(`Writing three snapshots of ~${nodes} nodes${cgroup === undefined ? '' : ` (generator in cgroup ${cgroup})`}...`)
    const generated = JSON.parse(await run(['--max-old-space-size=8192', '-e', GENERATE, dir, String(nodes)], cgroup)) as { perRound: number }
    const files = ['a', 'b', 'c'].map((name) => join(dir, `${name}.heapsnapshot`))
    const sizes = await Promise.all(files.map(async (file) => mb((await stat(file)).size)))
    const nodeCounts = await Promise.all(files.map(nodeCountOf))
    console.log(`files ${sizes.join(', ')}; nodes ${nodeCounts.join(', ')}; ${generated.perRound} Sessions leaked per round\n`)

    const memlabDir = process.env['MEMLAB_DIR']
    const withMemlab = memlabDir !== undefined && existsSync(join(memlabDir, 'node_modules/memlab'))
    if (!withMemlab) console.log('memlab skipped: set MEMLAB_DIR to a directory where memlab is installed (see the top of this file).\n')
    // Another checkout of this repository (BASELINE_DIR, e.g. `git worktree add /tmp/base <commit>`
    // with its node_modules linked): its finder on the same files, alternating, for a change's cost.
    const baselineDir = process.env['BASELINE_DIR']
    const baselineBench = baselineDir === undefined ? undefined : join(baselineDir, 'bench/find-leaks.ts')
    const ours: Measure[] = []
    const baseline: Measure[] = []
    const memlab: Measure[] = []
    for (let i = 0; i < runs; i++) {
      ours.push(await measure(['--import', 'tsx', fileURLToPath(import.meta.url), '--measure-ours', ...files]))
      if (baselineBench !== undefined) {
        baseline.push(await measure(['--import', 'tsx', baselineBench, '--measure-ours', ...files]))
        console.log(`run ${i + 1}: baseline ${seconds(baseline[i]?.wallMs ?? NaN)} ${mb(baseline[i]?.maxRssBytes ?? NaN)}`)
      }
      if (withMemlab) {
        const workDir = await mkdtemp(join(tmpdir(), 'memlab-work-'))
        memlab.push(await measure(['--max-old-space-size=16384', '-e', REPORT + MEMLAB, ...files, workDir]))
        await rm(workDir, { recursive: true, force: true })
      }
      console.log(`run ${i + 1}: ours ${seconds(ours[i]?.wallMs ?? NaN)} ${mb(ours[i]?.maxRssBytes ?? NaN)}` + (withMemlab ? `, memlab ${seconds(memlab[i]?.wallMs ?? NaN)} ${mb(memlab[i]?.maxRssBytes ?? NaN)}` : ''))
    }
    const ok = (list: readonly Measure[]): Measure[] => list.filter((m) => m.ok)
    console.log(`\n${''.padEnd(10)}${'wall, median (min–max)'.padStart(24)}  ${'cpu'.padStart(22)}  ${'peak RSS'.padStart(22)}`)
    console.log(summary('ours', ours))
    if (baselineBench !== undefined) console.log(summary('baseline', baseline))
    if (withMemlab) console.log(summary('memlab', memlab))
    if (ok(ours).length > 0 && ok(baseline).length > 0) {
      const wall = median(ok(ours).map((m) => m.wallMs)) / median(ok(baseline).map((m) => m.wallMs))
      const rss = median(ok(ours).map((m) => m.maxRssBytes)) / median(ok(baseline).map((m) => m.maxRssBytes))
      console.log(`\nagainst the baseline (${baselineDir}): wall ×${wall.toFixed(2)}, peak RSS ×${rss.toFixed(2)}`)
    }
    if (ok(ours).length > 0 && ok(memlab).length > 0) {
      const wall = median(ok(memlab).map((m) => m.wallMs)) / median(ok(ours).map((m) => m.wallMs))
      const rss = median(ok(ours).map((m) => m.maxRssBytes)) / median(ok(memlab).map((m) => m.maxRssBytes))
      console.log(`\nours is ${wall.toFixed(1)}× faster (goal ≥ ${GOAL_SPEEDUP}×: ${wall >= GOAL_SPEEDUP ? 'met' : 'MISSED'}), ` +
        `uses ${(rss * 100).toFixed(0)}% of memlab's peak RSS (goal ≤ ${GOAL_MEMORY_SHARE * 100}%: ${rss <= GOAL_MEMORY_SHARE ? 'met' : 'MISSED'})`)
    }
    if (ok(ours).length > 0) {
      const peak = Math.max(...ok(ours).map((m) => m.maxRssBytes))
      console.log(`ours peak RSS ${mb(peak)} (goal ≤ ${mb(GOAL_RSS_BYTES)} for three snapshots of 5M nodes: ${nodes >= 5e6 ? (peak <= GOAL_RSS_BYTES ? 'met' : 'MISSED') : 'run with --nodes 5000000'})`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    if (cgroup !== undefined) await rmdir(cgroup).catch(() => {})
  }
}

if (process.argv[2] === '--measure-ours') {
  await measureOurs(process.argv.slice(3))
} else {
  await main()
}
