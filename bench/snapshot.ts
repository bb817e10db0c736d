// Two benches.
// --cost: for each heap shape of issue 9 (objects { i }, records, closures, strings, big arrays of
// numbers), in a fresh process with the plugin's default options: the guard's estimate before the
// first snapshot (the conservative bound) and before the second (learned), next to the extra
// peak RSS the first really cost, and the RSS the snapshot left behind 15 s later, with glibc and,
// when /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 is installed (apt-get install libjemalloc2),
// with jemalloc preloaded (MALLOC_CONF passed through). Run: npx tsx bench/snapshot.ts --cost [--shapes objects,records]
//
// Otherwise: what does POST /heap-snapshot?download=true cost next to the bare V8 calls, for the same heap?
// Run: npx tsx bench/snapshot.ts [--heap-mb 50,200] [--runs 3] [--with-typescript]
// Each contender runs in a fresh child process holding the same heap of small objects (and the
// same Fastify app with the plugin registered, so that the heaps match):
//   route  POST /heap-snapshot?download=true (gzip level 1), read to the end by this process
//   write  v8.writeHeapSnapshot(file), the cheapest path and the reference
//   get    v8.getHeapSnapshot() piped to a file
// Measured in the child: peak extra RSS (VmHWM after resetting it, minus VmRSS before), the
// longest gap of a 1 ms interval timer (the event loop block); by the contender: wall time and
// the bytes produced. Printed side by side, as ratios to `write`: the median of --runs runs, the
// contenders taking turns (this machine's load varies by ±10% from one run to the next).
// --with-typescript loads the TypeScript compiler (one 9 MB script) in every child, as a bundled
// app would: Node 20 then spends most of a bare snapshot rescanning it (see
// plugin/snapshot-line-ends.ts), and the route, which caches the line tables first, does not.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { getHeapSnapshot, writeHeapSnapshot } from 'node:v8'
import { existsSync } from 'node:fs'
import Fastify from 'fastify'
import memoryDiagnostics from '../plugin/index.js'
import { SHAPES } from '../test/fixtures/snapshot-shape-app.js'
import type { Shape } from '../test/fixtures/snapshot-shape-app.js'

const GOAL_PEAK_RATIO = 1.02
const GOAL_BLOCK_RATIO = 1.05
const GOAL_GZIP_RATIO = 5
const TOKEN = 'bench-snapshot-token-0123456789'
const CONTENDERS = ['write', 'route', 'get'] as const
type Contender = typeof CONTENDERS[number]

interface Figures {
  heapUsedBytes: number
  rssBeforeBytes: number
  peakRssBytes: number
  extraRssBytes: number
  blockMs: number
  wallMs: number
  outputBytes: number
}

// ---- the child: one heap, one contender -------------------------------------------------------

interface Item {
  index: number
  label: string
  next: Item | null
}

function statusKiB (name: string): number {
  const match = new RegExp(`^${name}:\\s*(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'latin1'))
  return Number(match?.[1]) * 1024
}

/** A 1 ms interval timer: the longest gap between its ticks is how long the loop was blocked. */
function loopBlockMeter () {
  let last = performance.now()
  let longest = 0
  const timer = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 1)
  return { stop: () => { clearInterval(timer); return longest } }
}

async function child (contender: Contender, heapMb: number, dir: string, withTypescript: boolean): Promise<void> {
  if (withTypescript) createRequire(import.meta.url)('typescript')
  const retained: Item[] = []
  let previous: Item | null = null
  while (process.memoryUsage().heapUsed < heapMb * 1e6) {
    for (let i = 0; i < 10_000; i++) {
      previous = { index: retained.length, label: `item-${retained.length}`, next: previous }
      retained.push(previous)
    }
  }
  const app = Fastify()
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, rateLimit: false, snapshot: { dir } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  // the same starting point for every contender: no garbage left to count as heap
  globalThis.gc?.()
  const heapUsedBytes = process.memoryUsage().heapUsed

  // /proc/self/clear_refs: 5 resets VmHWM to the current RSS (see plugin/snapshot-peak-rss.ts)
  writeFileSync('/proc/self/clear_refs', '5')
  const rssBeforeBytes = statusKiB('VmRSS')
  const meter = loopBlockMeter()
  const started = performance.now()
  let outputBytes = 0
  if (contender === 'route') {
    process.send?.({ port })
    await once(process, 'message') // the client has read the whole response
    outputBytes = -1
  } else if (contender === 'write') {
    outputBytes = statSync(writeHeapSnapshot(join(dir, 'bare.heapsnapshot'))).size
  } else {
    const file = join(dir, 'get.heapsnapshot')
    await pipeline(getHeapSnapshot(), createWriteStream(file))
    outputBytes = statSync(file).size
  }
  const wallMs = performance.now() - started
  await sleep(20) // the meter's first tick after the block
  const blockMs = meter.stop()
  const peakRssBytes = statusKiB('VmHWM')
  const figures: Figures = { heapUsedBytes, rssBeforeBytes, peakRssBytes, extraRssBytes: peakRssBytes - rssBeforeBytes, blockMs, wallMs, outputBytes }
  process.send?.({ figures, objects: retained.length })
  await app.close()
  process.disconnect()
}

// ---- the parent: run each contender in its own process -----------------------------------------

function download (port: number): Promise<{ bytes: number, wallMs: number, statusCode: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/heap-snapshot?download=true', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => { bytes += chunk.length })
      res.on('end', () => resolve({ bytes, wallMs: performance.now() - started, statusCode: res.statusCode as number }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function run (contender: Contender, heapMb: number, withTypescript: boolean): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-bench-'))
  try {
    const args = ['--child', contender, '--heap-mb', String(heapMb), '--dir', dir, ...(withTypescript ? ['--with-typescript'] : [])]
    const worker: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    const exited = once(worker, 'exit')
    let [message] = await once(worker, 'message') as [{ port?: number, figures?: Figures }]
    if (message.port !== undefined) {
      const received = await download(message.port)
      if (received.statusCode !== 201) throw new Error(`route answered ${received.statusCode}`)
      worker.send('done')
      ;[message] = await once(worker, 'message') as [{ figures: Figures }]
      message.figures = { ...message.figures as Figures, outputBytes: received.bytes, wallMs: received.wallMs }
    }
    await exited
    return message.figures as Figures
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function median (runs: Figures[]): Figures {
  const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  const keys = Object.keys(runs[0] as Figures) as Array<keyof Figures>
  return Object.fromEntries(keys.map((key) => [key, middle(runs.map((f) => f[key]))])) as unknown as Figures
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1)
const ratio = (value: number, reference: number) => `${(value / reference).toFixed(2)}×`

// ---- --cost: the guard's estimate next to the real cost, per heap shape -------------------------

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'
const COST_MATRIX: Array<[Shape, number]> = [['objects', 600_000], ['records', 200_000], ['closures', 300_000], ['strings', 300_000], ['arrays', 200]]
const RETAINED_AFTER_MS = 15_000

interface CostFigures {
  allocator: string
  heapUsedBytes: number
  firstEstimate: number
  firstBasis: string
  extraRssBytes: number
  retainedBytes: number
  secondEstimate: number
  secondBasis: string
  secondExtraRssBytes: number
}

const retainedShapes: unknown[] = []

async function costChild (shape: Shape, count: number, dir: string): Promise<void> {
  for (let i = 0; i < count; i++) retainedShapes.push(SHAPES[shape](i))
  const app = Fastify()
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, snapshot: { dir } })
  const headers = { authorization: `Bearer ${TOKEN}` }
  const memory = async () => (await app.inject({ method: 'GET', url: '/memory', headers })).json().snapshot
  globalThis.gc?.()
  const first = await memory()
  const taken = (await app.inject({ method: 'POST', url: '/heap-snapshot', headers })).json()
  await sleep(RETAINED_AFTER_MS)
  const second = await memory()
  // past the cool-down: a second snapshot, on top of what the first left
  const again = (await app.inject({ method: 'POST', url: '/heap-snapshot', headers })).json()
  const figures: CostFigures = {
    allocator: second.retained.allocator,
    heapUsedBytes: taken.heapUsedBytes,
    firstEstimate: first.estimatedBytes,
    firstBasis: first.basis,
    extraRssBytes: taken.extraRssBytes,
    retainedBytes: second.retained.retainedBytes,
    secondEstimate: second.estimatedBytes,
    secondBasis: second.basis,
    secondExtraRssBytes: again.extraRssBytes
  }
  process.send?.({ figures, items: retainedShapes.length })
  await app.close()
  process.disconnect()
}

async function runCost (shape: Shape, count: number, jemalloc: boolean): Promise<CostFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-bench-'))
  try {
    const worker = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--cost-child', shape, '--count', String(count), '--dir', dir], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...(jemalloc ? { LD_PRELOAD: JEMALLOC } : {}) }
    })
    const exited = once(worker, 'exit')
    const [message] = await once(worker, 'message') as [{ figures: CostFigures }]
    await exited
    return message.figures
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function costBench (only?: string[]): Promise<void> {
  const allocators = existsSync(JEMALLOC) ? [false, true] : [false]
  console.log(`Node ${process.version}; default options; extra = VmHWM after clear_refs minus RSS before; retained = RSS ${RETAINED_AFTER_MS / 1000} s after the snapshot minus RSS before it`)
  if (allocators.length === 1) console.log(`(${JEMALLOC} not installed: glibc only; apt-get install libjemalloc2 for the comparison)`)
  console.log('shape      items    alloc     heapUsed  1st estimate (bound)  real extra  ratio   2nd estimate (basis)        ratio   retained   2nd real extra')
  for (const [shape, count] of COST_MATRIX.filter(([shape]) => only === undefined || only.includes(shape))) {
    for (const jemalloc of allocators) {
      const f = await runCost(shape, count, jemalloc)
      console.log([
        shape.padEnd(10),
        String(count).padEnd(8),
        f.allocator.padEnd(9),
        `${mb(f.heapUsedBytes)} MB`.padEnd(9),
        `${mb(f.firstEstimate)} MB`.padEnd(21),
        `${mb(f.extraRssBytes)} MB`.padEnd(11),
        (f.firstEstimate / f.extraRssBytes).toFixed(2).padEnd(7),
        `${mb(f.secondEstimate)} MB (${f.secondBasis})`.padEnd(27),
        (f.secondEstimate / f.extraRssBytes).toFixed(2).padEnd(7),
        `${mb(f.retainedBytes)} MB`.padEnd(10),
        `${mb(f.secondExtraRssBytes)} MB`
      ].join(' '))
    }
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      cost: { type: 'boolean', default: false },
      shapes: { type: 'string' },
      'cost-child': { type: 'string' },
      count: { type: 'string' },
      'heap-mb': { type: 'string', default: '50,200' },
      runs: { type: 'string', default: '3' },
      'with-typescript': { type: 'boolean', default: false },
      child: { type: 'string' },
      dir: { type: 'string' }
    }
  })
  if (values['cost-child'] !== undefined) {
    await costChild(values['cost-child'] as Shape, Number(values.count), String(values.dir))
    return
  }
  if (values.cost === true) {
    await costBench(values.shapes?.split(','))
    return
  }
  const heapSizes = String(values['heap-mb']).split(',').map(Number)
  const withTypescript = values['with-typescript'] === true
  if (values.child !== undefined) {
    await child(values.child as Contender, heapSizes[0] as number, String(values.dir), withTypescript)
    return
  }
  const runs = Number(values.runs)
  console.log(`Node ${process.version}; one fresh process per contender and run; median of ${runs} runs; ratios are to the bare writeHeapSnapshot${withTypescript ? '; TypeScript compiler loaded' : ''}\n`)
  let met = true
  for (const heapMb of heapSizes) {
    const all = new Map<Contender, Figures[]>(CONTENDERS.map((contender) => [contender, []]))
    for (let i = 0; i < runs; i++) {
      for (const contender of CONTENDERS) all.get(contender)?.push(await run(contender, heapMb, withTypescript))
    }
    const results = new Map([...all].map(([contender, figures]) => [contender, median(figures)]))
    const write = results.get('write') as Figures
    console.log(`heap of ~${heapMb} MB of small objects (heapUsed ${mb(write.heapUsedBytes)} MB, after a full GC)`)
    console.log('contender  peak extra RSS           loop block              wall time               output')
    for (const [contender, f] of results) {
      console.log([
        contender.padEnd(10),
        `${mb(f.extraRssBytes)} MB (${ratio(f.extraRssBytes, write.extraRssBytes)})`.padEnd(24),
        `${f.blockMs.toFixed(0)} ms (${ratio(f.blockMs, write.blockMs)})`.padEnd(24),
        `${f.wallMs.toFixed(0)} ms (${ratio(f.wallMs, write.wallMs)})`.padEnd(24),
        `${mb(f.outputBytes)} MB (${ratio(f.outputBytes, write.outputBytes)})`
      ].join(' '))
    }
    const route = results.get('route') as Figures
    const factors = [...results].map(([contender, f]) => `${contender} ${(f.extraRssBytes / f.heapUsedBytes).toFixed(2)}`)
    console.log(`cost factor (peak extra RSS / heapUsed): ${factors.join(', ')}`)
    const checks = [
      [`route peak ≤ ${GOAL_PEAK_RATIO}× write`, route.extraRssBytes <= GOAL_PEAK_RATIO * write.extraRssBytes],
      [`route block ≤ ${GOAL_BLOCK_RATIO}× write`, route.blockMs <= GOAL_BLOCK_RATIO * write.blockMs],
      [`gzip output ≥ ${GOAL_GZIP_RATIO}× smaller`, route.outputBytes * GOAL_GZIP_RATIO <= write.outputBytes]
    ] as const
    for (const [goal, ok] of checks) {
      console.log(`  ${ok ? 'met ' : 'MISSED'} ${goal}`)
      met &&= ok
    }
    console.log('')
  }
  console.log(met ? 'all goals met' : 'some goals missed')
}

await main()
