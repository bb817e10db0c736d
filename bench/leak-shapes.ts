// find-leaks on generated leak shapes (test/helpers/leak-shapes.ts): services of one to three
// leaks (every holder, update style, site and owner of code) beside busy routes and non-leaks,
// one per seed. Prints, per family of shapes, how many leaks came first or second with the right
// holder, what their figures per request claimed, and the false candidates; with MEMLAB_DIR set
// (see bench/find-leaks.ts for installing memlab), memlab's findLeaksBySnapshotFilePaths on the
// same snapshots beside it.
//   npm run bench:leak-shapes -- --seeds 200 [--from 1]
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { findLeaks } from '../analysis/find-leaks.js'
import { generateService, judgeService, runService } from '../test/helpers/leak-shapes.js'
import type { LeakSpec, LeakVerdict } from '../test/helpers/leak-shapes.js'

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '200' }, from: { type: 'string', default: '1' } } })
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => Number(values.from) + i)
const memlabDir = process.env['MEMLAB_DIR']
const withMemlab = memlabDir !== undefined && existsSync(join(memlabDir, 'node_modules/memlab'))

// memlab's leak traces, each reduced to the class of the object it leads to (tagged "leaked").
// For a Node.js heap memlab's default filter looks for detached DOM and React Fiber nodes only,
// so it runs as `memlab find-leaks --trace-all-objects` does: every object allocated in the target
// interval and alive in the final snapshot is a leak (oversizeThreshold 0).
const MEMLAB = `
const { join } = require('node:path')
const { config } = require(join(process.env.MEMLAB_DIR, 'node_modules/@memlab/core'))
config.oversizeObjectAsLeak = true
config.oversizeThreshold = 0
config.traceAllObjectsMode = 1
const { findLeaksBySnapshotFilePaths } = require(join(process.env.MEMLAB_DIR, 'node_modules/memlab'))
const [a, b, c, workDir] = process.argv.slice(1)
findLeaksBySnapshotFilePaths(a, b, c, { workDir, consoleMode: 'SILENT' }).then((traces) => {
  const leaked = (trace) => {
    const step = Object.keys(trace).find((key) => key.includes('$memLabTag:leaked'))
    const match = step === undefined ? null : /--->\\s+\\[([^\\]]*)\\]/.exec(step)
    return match === null ? '?' : match[1]
  }
  console.log(JSON.stringify(traces.map(leaked)))
})
`

interface Row {
  readonly leak: LeakSpec
  readonly ours: LeakVerdict
  /** memlab: the leak's class in one of its first two traces. */
  readonly memlabTopTwo?: boolean
}

const rows: Row[] = []
let falseCandidates = 0
let parts = 0
let memlabTraces = 0
let memlabFalse = 0
const started = performance.now()
for (const seed of seeds) {
  const service = generateService(seed)
  const dir = mkdtempSync(join(tmpdir(), `leak-shapes-${seed}-`))
  try {
    const files = await runService(service, dir)
    const verdict = judgeService(service, await findLeaks(files))
    falseCandidates += verdict.falseCandidates.length
    parts += verdict.parts.length
    for (const f of verdict.falseCandidates) console.log(`seed ${seed}: false candidate ${f.className} (${f.countPerInterval.join('/')}) ${f.collection.label}`)
    const memlab = withMemlab ? await memlabTraces3(files, dir) : undefined
    if (memlab !== undefined) {
      memlabTraces += memlab.length
      memlabFalse += memlab.filter((leaked) => !service.leaks.some((leak) => leaked === leak.className)).length
    }
    for (const ours of verdict.leaks) {
      rows.push({ leak: ours.leak, ours, ...(memlab === undefined ? {} : { memlabTopTwo: memlab.slice(0, 2).includes(ours.leak.className) }) })
      if (ours.rank === 0 || ours.rank > 2 || !ours.rightHolder || ours.route === 'wrong') {
        console.log(`seed ${seed}: ${describe(ours.leak)}: rank ${ours.rank}, holder ${ours.rightHolder ? 'right' : `wrong (${ours.candidate?.collection.kind} ${ours.candidate?.collection.label})`}, per request ${ours.route}`)
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function memlabTraces3 (files: readonly string[], dir: string): Promise<string[]> {
  const [a, b, c] = files
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', MEMLAB, a as string, b as string, c as string, mkdtempSync(join(dir, 'memlab-'))], { maxBuffer: 1 << 28 })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[]
}

function describe (leak: LeakSpec): string {
  return `${leak.className}: ${leak.holder}/${leak.collection}/${leak.update} made in ${leak.site} by ${leak.code}`
}

const families: Array<[string, (leak: LeakSpec) => string]> = [
  ['holder', (l) => l.holder],
  ['update style (collections)', (l) => ['emitter', 'timers', 'never-settled', 'weakmap'].includes(l.holder) ? 'n/a' : l.update],
  ['where it is made', (l) => l.site],
  ['whose code', (l) => l.code]
]
const pct = (n: number, of: number): string => of === 0 ? '-' : `${n}/${of} (${Math.round(100 * n / of)}%)`
const good = (r: Row): boolean => r.ours.rank >= 1 && r.ours.rank <= 2 && r.ours.rightHolder
console.log(`\n${seeds.length} services (seeds ${seeds[0]}–${seeds.at(-1)}), ${rows.length} leaks, ${Math.round((performance.now() - started) / 1000)} s, Node ${process.version}`)
for (const [name, key] of families) {
  console.log(`\n| ${name} | leaks | first or second, right holder | per request: right | cannot tell | wrong |${withMemlab ? ' memlab: first two traces |' : ''}`)
  console.log(`| --- | --- | --- | --- | --- | --- |${withMemlab ? ' --- |' : ''}`)
  const byKey = new Map<string, Row[]>()
  for (const r of rows) byKey.set(key(r.leak), [...(byKey.get(key(r.leak)) ?? []), r])
  for (const [k, group] of [...byKey].sort()) {
    const count = (route: string): number => group.filter((r) => r.ours.route === route).length
    console.log(`| ${k} | ${group.length} | ${pct(group.filter(good).length, group.length)} | ${count('right')} | ${count('cannot-tell')} | ${count('wrong')} |` +
      (withMemlab ? ` ${pct(group.filter((r) => r.memlabTopTwo === true).length, group.length)} |` : ''))
  }
}
const all = rows.length
console.log(`\nAll: ${pct(rows.filter(good).length, all)} first or second with the right holder; per request ${rows.filter((r) => r.ours.route === 'right').length} right, ` +
  `${rows.filter((r) => r.ours.route === 'cannot-tell').length} cannot tell, ${rows.filter((r) => r.ours.route === 'wrong').length} wrong; ` +
  `${falseCandidates} false candidates (and ${parts} parts of a leak named apart)`)
if (withMemlab) console.log(`memlab (--trace-all-objects): ${pct(rows.filter((r) => r.memlabTopTwo === true).length, all)} in its first two traces (a trace names no holder: the class only); ${memlabTraces} traces, ${memlabFalse} to no generated leak's class`)
else console.log('memlab skipped: set MEMLAB_DIR to a directory where memlab is installed (see the top of bench/find-leaks.ts).')
