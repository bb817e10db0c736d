// What does snapshot.redact cost next to an unredacted write of the same heap, in one run?
// Run: npm run bench:redact -- [--records 300000] [--runs 3]
// Each measurement is a fresh child process (glibc keeps a snapshot's memory for the next one)
// holding the same heap: records with an e-mail, a token and a nested object each, so that about
// half of the string table is values. The variants take turns:
//   write   v8.writeHeapSnapshot(file): the reference
//   redact  writeRedactedSnapshot: V8 writes into a named pipe, a worker thread rewrites it to file
//   file    its fallback without mkfifo: V8 writes a raw file, then the main thread rewrites it
// Measured in the child: wall time of the write, extra peak RSS (VmHWM after resetting it, minus
// VmRSS before), the file's bytes, the strings replaced. Printed: the median of --runs with the
// min-max spread, and redact's ratios to write. Goals: time ≤ 1.3×, extra peak RSS no more than
// the worker thread, a chunk and the bitsets.
import { execFile } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { writeHeapSnapshot } from 'node:v8'
import { measurePeakRss } from '../plugin/snapshot/peak-rss.js'
import { startRedaction } from '../plugin/snapshot/redact.js'

const run = promisify(execFile)
const VARIANTS = ['write', 'redact', 'file'] as const
type Variant = typeof VARIANTS[number]
const GOAL_TIME_RATIO = 1.3

interface Figures { wallMs: number, cpuMs: number, extraRssBytes: number, bytes: number, redactedStrings: number, strings: number, heapUsedBytes: number }

async function child (variant: Variant, records: number): Promise<void> {
  const held = Array.from({ length: records }, (_, i) => ({
    id: i,
    email: `user-${i}@example.com`,
    token: `tok_${(i * 2654435761 >>> 0).toString(16)}${i}`,
    at: { x: i, y: -i }
  }))
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-bench-redact-'))
  try {
    globalThis.gc?.()
    const heapUsedBytes = process.memoryUsage().heapUsed
    const out = join(dir, 'out.heapsnapshot')
    closeSync(openSync(out, 'wx', 0o600))
    const peak = measurePeakRss()
    const started = performance.now()
    const cpu = process.cpuUsage()
    let summary = { strings: 0, redactedStrings: 0 }
    if (variant === 'write') {
      writeHeapSnapshot(out)
    } else {
      const redaction = await startRedaction({ raw: join(dir, 'raw'), out, redaction: { keepShorterThan: 0 }, via: variant === 'file' ? 'file' : 'pipe' })
      summary = redaction.write({ writeHeap: (path) => { writeHeapSnapshot(path) }, closeLeftovers: () => {} })
    }
    const wallMs = performance.now() - started
    const used = process.cpuUsage(cpu)
    const cpuMs = (used.user + used.system) / 1000
    const { extraRssBytes } = peak.finish(heapUsedBytes)
    const figures: Figures = { wallMs, cpuMs, extraRssBytes: extraRssBytes ?? NaN, bytes: statSync(out).size, ...summary, heapUsedBytes }
    console.log(JSON.stringify(figures))
    held.length = 0
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const spread = (values: number[], unit: (n: number) => string) => `${unit(median(values))} (${unit(Math.min(...values))}–${unit(Math.max(...values))})`
const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`
const s = (n: number) => `${(n / 1000).toFixed(2)} s`

async function parent (records: number, runs: number): Promise<void> {
  const self = fileURLToPath(import.meta.url)
  const results: Record<Variant, Figures[]> = { write: [], redact: [], file: [] }
  for (let i = 0; i < runs; i++) {
    // the variants take turns, each first in its turn, against the machine's drifting load
    for (const variant of [...VARIANTS.slice(i % VARIANTS.length), ...VARIANTS.slice(0, i % VARIANTS.length)]) {
      const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', variant, '--records', String(records)], { maxBuffer: 1 << 20 })
      results[variant].push(JSON.parse(stdout.trim().split('\n').at(-1) as string) as Figures)
    }
  }
  const [first] = results.redact
  console.log(`${records} records, heapUsed ${mb(first?.heapUsedBytes ?? NaN)}, snapshot ${mb(first?.bytes ?? NaN)}, ${first?.redactedStrings} of ${first?.strings} strings replaced; ${runs} runs each, median (min–max)`)
  for (const variant of VARIANTS) {
    const figures = results[variant]
    console.log(`  ${variant.padEnd(7)} time ${spread(figures.map((f) => f.wallMs), s).padEnd(24)} CPU ${spread(figures.map((f) => f.cpuMs), s).padEnd(24)} extra peak RSS ${spread(figures.map((f) => f.extraRssBytes), mb)}`)
  }
  const ratio = (a: number[], b: number[]) => spread(a.map((x, i) => x / (b[i] as number)), (n) => `${n.toFixed(2)}×`)
  const wall = (v: Variant) => results[v].map((f) => f.wallMs)
  const cpu = (v: Variant) => results[v].map((f) => f.cpuMs)
  for (const variant of ['redact', 'file'] as const) {
    const extra = results[variant].map((f, i) => f.extraRssBytes - (results.write[i] as Figures).extraRssBytes)
    console.log(`  ${variant} / write: time ${ratio(wall(variant), wall('write'))} (goal ≤ ${GOAL_TIME_RATIO}×), CPU ${ratio(cpu(variant), cpu('write'))}, extra peak RSS ${spread(extra, mb)} more`)
  }
}

const { values } = parseArgs({ options: { child: { type: 'string' }, records: { type: 'string', default: '300000' }, runs: { type: 'string', default: '3' } } })
if (values.child !== undefined) await child(values.child as Variant, Number(values.records))
else await parent(Number(values.records), Number(values.runs))
