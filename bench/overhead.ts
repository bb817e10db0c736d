// What does registering the plugin cost an application's own routes? Measured as the server's CPU
// time per request of an unrelated route (each server's own process.cpuUsage() over a round),
// all variants in the same run, next to req/s. Throughput on a shared machine swings ±20% and
// cannot resolve 1%; CPU time of batches run one after another swung 25-93 µs/request here
// (load average 17 on 2 cores). So every round loads all the servers at the same time, pinned to
// the same core: whatever the neighbours do in that window, they do it to every variant. And at
// the same fixed rate: CPU per request falls as more requests share an event loop turn, so servers
// driven as fast as they go differed by 24% with nothing but their load to tell them apart.
// The plugin adds no hook to the application's routes (it is encapsulated): what it adds is
// background work, so the run also measures each idle server's CPU time per second, and one trend
// judgement with a full window as the plugin runs it (rarely, so unoptimised).
// Fresh processes of the same code differ by a few percent, more than the 1% sought: the crossover
// rounds at the end swap the variants between two long-lived processes, which cancels that.
// Run: npm run bench:overhead -- [--sessions 4] [--rounds 5] [--seconds 5] [--rate 300] [--idle-seconds 10] [--crossover-pairs 8] [--no-pin]
import autocannon from 'autocannon'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { positiveIntegerArgument } from '../load/arguments.js'
import { openCgroupProbe } from '../plugin/cgroup.js'
import { createGcRecorder } from '../plugin/gc-recorder.js'
import { integerProblem } from '../plugin/integer-check.js'
import { createTrendMonitor } from '../plugin/trend/monitor.js'
import { resolveTrendThresholds } from '../plugin/trend/thresholds.js'
import { judgeTrend } from '../plugin/trend/verdict.js'
import type { TrendInput } from '../plugin/types/trend.js'
import { createMemoryProbe } from '../plugin/memory-probe.js'
import { DESCRIPTIONS, VARIANTS } from './overhead-variants.js'
import type { Variant } from './overhead-variants.js'
import type { ServerMessage } from './overhead-server.js'

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '300' },
    'idle-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '4' },
    'no-pin': { type: 'boolean', default: false },
    'crossover-pairs': { type: 'string', default: '8' }
  }
})
const sessions = positiveIntegerArgument(values.sessions, 'sessions')
const rounds = positiveIntegerArgument(values.rounds, 'rounds')
const seconds = positiveIntegerArgument(values.seconds, 'seconds')
const rate = positiveIntegerArgument(values.rate, 'rate')
const idleSeconds = positiveIntegerArgument(values['idle-seconds'], 'idle-seconds')
const connections = positiveIntegerArgument(values.connections, 'connections')
const crossoverPairs = Number(values['crossover-pairs'])
const crossoverProblem = integerProblem(crossoverPairs, { min: 0, name: '--crossover-pairs', typed: values['crossover-pairs'] })
if (crossoverProblem !== null) throw new Error(crossoverProblem)
// The servers share one core, the load generator has the other: autocannon never competes with the
// servers for their core, and every server meets the same neighbours.
const pin = !values['no-pin'] && availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0
const WARM_UP_REQUESTS = 20_000
const SETTLING_ROUNDS = 2
const SERVER_CPU = '0'
const LOAD_CPU = '1'
const serverScript = fileURLToPath(new URL('./overhead-server.ts', import.meta.url))

interface Server { child: ChildProcess, url: string }

async function start (variant: Variant, snapshotDir: string): Promise<Server> {
  const node = [process.execPath, '--import', 'tsx', serverScript, variant]
  const [command, ...args] = pin ? ['taskset', '-c', SERVER_CPU, ...node] : node
  const child = spawn(command!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_SNAPSHOT_DIR: snapshotDir } })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, url: `http://127.0.0.1:${message.port}/` }
}

async function serverCpuMicroseconds (server: Server): Promise<number> {
  server.child.send({ type: 'cpu' } satisfies ServerMessage)
  const [message] = await once(server.child, 'message') as [{ cpuMicroseconds: number }]
  return message.cpuMicroseconds
}

interface Batch { cpuPerRequest: number, requestsPerSecond: number }

/** Loads every server at once, at the same rate, for `duration` seconds; each one's CPU time over the requests it answered. */
async function round (servers: Server[], duration: number): Promise<Batch[]> {
  const before = await Promise.all(servers.map(serverCpuMicroseconds))
  const results = await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, duration, overallRate: rate })))
  const after = await Promise.all(servers.map(serverCpuMicroseconds))
  return results.map((result, i) => {
    if (result.errors !== 0 || result.non2xx !== 0) throw new Error(`${servers[i]!.url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`)
    const answered = result['2xx']
    const elapsed = (result.finish.getTime() - result.start.getTime()) / 1000
    return { cpuPerRequest: (after[i]! - before[i]!) / answered, requestsPerSecond: answered / elapsed }
  })
}

function quantile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low)
}

const median = (values: number[]) => quantile(values, 0.5)

/**
 * A distribution-free 95% confidence interval of the median: the order statistics whose ranks a
 * binomial(n, 1/2) count stays between 95% of the time (normal approximation).
 */
function medianInterval (values: number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b)
  const k = Math.max(0, Math.floor(sorted.length / 2 - 0.98 * Math.sqrt(sorted.length)))
  return [sorted[k]!, sorted[sorted.length - 1 - k]!]
}

const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`

function microsecondsPerCall (fn: () => unknown, iterations = 20_000): number {
  for (let i = 0; i < 1000; i++) fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) fn()
  return Number(process.hrtime.bigint() - start) / iterations / 1000
}

async function startAll (snapshotDir: string): Promise<Server[]> {
  const servers: Server[] = []
  for (const variant of VARIANTS) servers.push(await start(variant, snapshotDir))
  return servers
}

async function stopAll (servers: Server[]): Promise<void> {
  for (const { child } of servers) {
    child.disconnect()
    await once(child, 'exit')
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Has the server close its app and serve `variant` in a new one, in the same process. */
async function serveVariant (server: Server, variant: Variant): Promise<void> {
  server.child.send({ type: 'serve', variant } satisfies ServerMessage)
  const [message] = await once(server.child, 'message') as [{ port: number }]
  server.url = `http://127.0.0.1:${message.port}/`
}

const CROSSOVER_WARM_UP_REQUESTS = 3000
const CROSSOVER_SETTLING_SECONDS = 2
const CROSSOVER_SETTLING_PAIRS = 2

/**
 * Crossover rounds: two processes serve the two variants at the same time, then swap, each
 * closing its app and serving the other variant in a new one. A pair's ratio, the geometric mean
 * of (1st on / 2nd off) and (2nd on / 1st off), cancels both what differs between the two
 * processes (their constant factors multiply out) and what the neighbours do over time (both
 * halves are loaded at once). A second couple of processes swaps plain for plain, at the same
 * time: what the instrument reads when nothing differs.
 */
async function crossover (snapshotDir: string, couples: Array<[Variant, Variant]>): Promise<number[][]> {
  const servers = await Promise.all(couples.flat().map((variant) => start(variant, snapshotDir)))
  const ratios = couples.map((): number[] => [])
  try {
    await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, amount: WARM_UP_REQUESTS })))
    // unmeasured pairs first: the first apps a process builds run cold code (control pairs read -30% to -40%)
    for (let pair = -CROSSOVER_SETTLING_PAIRS; pair < crossoverPairs; pair++) {
      const halves: number[][] = []
      for (const swapped of [false, true]) {
        // server 2k serves the couple's first variant in the first half and its second in the other
        await Promise.all(servers.map((server, i) => serveVariant(server, couples[i >> 1]![(i % 2 === 1) !== swapped ? 1 : 0]!)))
        await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, amount: CROSSOVER_WARM_UP_REQUESTS })))
        await round(servers, CROSSOVER_SETTLING_SECONDS)
        halves.push((await round(servers, seconds)).map((batch) => batch.cpuPerRequest))
      }
      if (pair < 0) continue
      const [first, second] = halves as [number[], number[]]
      // first half: server 2k serves couple k's first variant, 2k + 1 its second; then they swap
      couples.forEach((_, k) => ratios[k]!.push(Math.sqrt((first[2 * k]! / first[2 * k + 1]!) * (second[2 * k + 1]! / second[2 * k]!))))
      console.log(`  pair ${pair + 1}: ${couples.map(([a, b], k) => `${a} / ${b} ${percent(ratios[k]!.at(-1)!)}`).join('   ')}`)
    }
  } finally {
    await stopAll(servers)
  }
  return ratios
}

if (pin) spawnSync('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)], { stdio: 'ignore' })
console.log(`Server CPU time per request of a trivial route: ${sessions} sessions of fresh servers × ${rounds} rounds of ${seconds} s, ` +
  `all variants loaded at once at ${rate} req/s each (${connections} connections), ` +
  (pin ? `servers pinned to CPU ${SERVER_CPU}, load generator to CPU ${LOAD_CPU}` : 'not pinned'))
for (const variant of VARIANTS) console.log(`  ${variant.padEnd(21)} ${DESCRIPTIONS[variant]}`)

const snapshotDir = mkdtempSync(join(tmpdir(), 'memdiag-bench-'))
const results = new Map<Variant, Batch[]>(VARIANTS.map((variant) => [variant, []]))
const idle = new Map<Variant, number[]>(VARIANTS.map((variant) => [variant, []]))
try {
  // Two processes of the same code differ by a few percent (heap layout, JIT, GC timing): fresh
  // processes for every session keep one process's luck out of the medians.
  for (let session = 0; session < sessions; session++) {
    const list = await startAll(snapshotDir)
    try {
      // warm-up, as fast as they go: JIT, sockets, the first GCs (rounds right after a short warm-up cost 2-4 times more)
      await Promise.all(list.map((server) => autocannon({ url: server.url, connections, amount: WARM_UP_REQUESTS })))
      // then at the measured rate, unmeasured: the first 10 s after the burst cost 1.5-3 times more for every variant
      for (let r = 0; r < SETTLING_ROUNDS; r++) await round(list, seconds)
      for (let r = 0; r < rounds; r++) {
        // rotated, so that no variant is always the first one loaded
        const order = VARIANTS.map((_, i) => (i + r + session) % VARIANTS.length)
        const rotated = await round(order.map((i) => list[i]!), seconds)
        const batches = VARIANTS.map((_, i) => rotated[order.indexOf(i)]!)
        VARIANTS.forEach((variant, i) => results.get(variant)!.push(batches[i]!))
        console.log(`  round ${r + 1}: µs/request  ${VARIANTS.map((variant, i) => `${variant} ${batches[i]!.cpuPerRequest.toFixed(1)}`).join('  ')}`)
      }
      // After the rounds: V8's memory reducer runs GCs for a few seconds after the load stops, and the
      // plugin's first trend judgements (cold code) cost tens of milliseconds in the first 15 s.
      await sleep(5000)
      const idleBefore = await Promise.all(list.map(serverCpuMicroseconds))
      await sleep(idleSeconds * 1000)
      const idleAfter = await Promise.all(list.map(serverCpuMicroseconds))
      VARIANTS.forEach((variant, i) => idle.get(variant)!.push((idleAfter[i]! - idleBefore[i]!) / idleSeconds))
      console.log(`session ${session + 1}, idle ${idleSeconds} s: CPU µs per second  ${VARIANTS.map((variant) => `${variant} ${idle.get(variant)!.at(-1)!.toFixed(0)}`).join('  ')}`)
    } finally {
      await stopAll(list)
    }
  }

  // Each round's CPU per request divided by plain's in the same round: drift between rounds cancels.
  const ratios = (variant: Variant, base: Variant = 'plain') => results.get(variant)!.map((b, r) => b.cpuPerRequest / results.get(base)![r]!.cpuPerRequest)
  const range = (values: number[]) => `${percent(Math.min(...values))}..${percent(Math.max(...values))}`
  const interval = (values: number[]) => medianInterval(values).map(percent).join('..')
  // Rounds of one session share processes: the spread of the sessions' medians shows what a
  // process's own luck (heap layout, JIT, GC timing) weighs, which the rounds' interval cannot.
  const sessionMedians = (values: number[]) => Array.from({ length: sessions }, (_, i) => median(values.slice(i * rounds, (i + 1) * rounds)))
  console.log('\nvariant                CPU µs/req   vs plain: median   95% CI of median   sessions\' medians   min..max over rounds   req/s')
  for (const variant of VARIANTS) {
    const batches = results.get(variant)!
    const r = ratios(variant)
    console.log(`  ${variant.padEnd(21)} ${median(batches.map((b) => b.cpuPerRequest)).toFixed(1).padStart(8)}   ${percent(median(r)).padStart(16)}   ` +
      `${interval(r).padEnd(16)}   ${range(sessionMedians(r)).padEnd(18)}   ${range(r).padEnd(20)}   ${median(batches.map((b) => b.requestsPerSecond)).toFixed(0).padStart(5)}`)
  }
  const control = ratios('plain-control')
  console.log(`\nresolution: two identical servers read ${percent(median(control))} (95% CI ${interval(control)}, sessions ${range(sessionMedians(control))}, single rounds ${range(control)}):` +
    ' a difference inside the sessions\' range is not resolved')
  const plugin = ratios('plugin')
  console.log(`goal 1, the plugin adds ≤ 1% CPU per request: ${percent(median(plugin))} (95% CI ${interval(plugin)}, sessions ${range(sessionMedians(plugin))})`)
  const plainCpu = median(results.get('plain')!.map((b) => b.cpuPerRequest))
  const idleOverPlain = (variant: Variant) => idle.get(variant)!.map((value, i) => value - idle.get('plain')![i]!)
  console.log(`idle CPU over plain, µs per second (median of ${sessions} sessions): ` +
    VARIANTS.filter((variant) => variant !== 'plain').map((variant) => `${variant} ${median(idleOverPlain(variant)).toFixed(0)}`).join('  '))
  for (const variant of ['plugin', 'plugin-minimal'] as const) {
    const extra = median(idleOverPlain(variant))
    console.log(`background work of ${variant}: ${extra.toFixed(0)} µs CPU per second over plain when idle (identical servers: ${median(idleOverPlain('plain-control')).toFixed(0)}); ` +
      `at ${rate} req/s that is ${(extra / rate).toFixed(2)} µs per request, ${percent(1 + extra / rate / plainCpu)} of plain's ${plainCpu.toFixed(1)} µs`)
  }
  const versusDefaults = ratios('plugin', 'prom-client-defaults')
  console.log(`goal 2, no more than prom-client's default metrics: plugin / prom-client-defaults ${percent(median(versusDefaults))} (95% CI ${interval(versusDefaults)})`)

  if (crossoverPairs > 0) {
    const couples: Array<[Variant, Variant]> = [['plugin', 'plain'], ['handler-traced', 'plain'], ['plain-control', 'plain']]
    console.log(`\ncrossover, ${crossoverPairs} pairs of ${seconds} s rounds: each couple's two variants swapped between two processes, all ${couples.length * 2} loaded at once`)
    const [plugin, traced, control] = await crossover(snapshotDir, couples) as [number[], number[], number[]]
    const summary = (values: number[]) => `median ${percent(median(values))}, 95% CI ${interval(values)}, pairs ${range(values)}`
    console.log(`  plugin / plain: ${summary(plugin)}`)
    console.log(`  handler-traced / plain: ${summary(traced)}`)
    console.log(`  plain / plain (control): ${summary(control)}`)
    console.log(`goal 1 by crossover: the plugin adds ${percent(median(plugin))} CPU per request (95% CI ${interval(plugin)}), ` +
      `${percent(median(traced))} of it from the handler tracing alone; the instrument reads ${percent(median(control))} (95% CI ${interval(control)}) when nothing differs`)
  }
} finally {
  rmSync(snapshotDir, { recursive: true, force: true })
}

// What the sampler holds once a 10-minute window of 5 s samples is full (the idle figure above is
// read minutes after the start, with a window far from full): a rising, noisy series.
const JUDGED_SAMPLES = 120
const JUDGED_FLOOR_POINTS = 720
const JUDGEMENTS = 12
const thresholds = resolveTrendThresholds()
function fullWindow (): TrendInput {
  const now = Date.now()
  const series = (count: number, stepMs: number, base: number, slope: number) =>
    Array.from({ length: count }, (_, i) => ({ t: now - (count - 1 - i) * stepMs, v: base + slope * i + Math.sin(i * 1.7) * base * 0.02 }))
  return {
    now,
    heapUsed: series(JUDGED_SAMPLES, 5000, 50e6, 2e4),
    heapFloor: series(JUDGED_FLOOR_POINTS, 5000, 40e6, 2e4),
    majorGcHeap: series(60, 60_000, 40e6, 2.4e5),
    rss: series(JUDGED_SAMPLES, 5000, 150e6, 2e4),
    external: series(JUDGED_SAMPLES, 5000, 2e6, 0),
    heapTotal: series(JUDGED_SAMPLES, 5000, 60e6, 2e4),
    rssAnon: series(JUDGED_SAMPLES, 5000, 110e6, 2e4),
    threads: series(JUDGED_SAMPLES, 5000, 11, 0),
    limits: { heapLimitBytes: 4e9, containerLimitBytes: null, containerUsageBytes: null }
  }
}

const cgroup = openCgroupProbe('/sys/fs/cgroup', '/proc/self/cgroup')
const probe = createMemoryProbe(cgroup)
const recorder = createGcRecorder({ windowMs: 60_000 })
for (let i = 0; i < 200; i++) recorder.record(i % 2 === 0 ? 'minor' : 'major', 0.5 + i / 100)
console.log(`\none /memory handler call:   ${microsecondsPerCall(() => probe.read()).toFixed(1)} µs  (goal <= 50)`)
console.log(`one /gc-stats handler call: ${microsecondsPerCall(() => recorder.stats()).toFixed(1)} µs  (goal <= 50)`)
// As the plugin runs it: one call at a time, too few for V8 to optimise it (a tight loop of
// calls reads 3 to 4 times less); the first call, compiling, is left out.
const judgements: number[] = []
for (let i = 0; i <= JUDGEMENTS; i++) {
  const window = fullWindow()
  const started = performance.now()
  judgeTrend(window, thresholds)
  if (i > 0) judgements.push((performance.now() - started) * 1000)
  await sleep(100)
}
const judgementMicroseconds = median(judgements)
console.log(`one trend judgement, full 10-minute window (${JUDGED_SAMPLES} samples, ${JUDGED_FLOOR_POINTS} floor points), ${JUDGEMENTS} calls 100 ms apart: ` +
  `median ${(judgementMicroseconds / 1000).toFixed(2)} ms (${(Math.min(...judgements) / 1000).toFixed(2)}..${(Math.max(...judgements) / 1000).toFixed(2)}), ` +
  `once per 5 s sample: ${(judgementMicroseconds / 5).toFixed(0)} µs of CPU per second in steady state, ${(judgementMicroseconds / 5 / rate).toFixed(2)} µs per request at ${rate} req/s`)
const monitor = createTrendMonitor({ intervalMs: 5000, capacityMs: 3_600_000, thresholds, readLimits: () => ({ heapLimitBytes: 4e9, containerLimitBytes: null, containerUsageBytes: null }) })
console.log(`one leak verdict read (/memory's trend): ${microsecondsPerCall(() => monitor.report()).toFixed(2)} µs`)
monitor.stop()
recorder.stop()
cgroup.close()
