// What does the sampling heap profiler cost the application's requests? CPU time per request of a
// small JSON route with the profiler off, at 512 KiB (the default) and at 32 KiB, measured as
// bench/overhead.ts does: all servers loaded at once, at the same fixed rate, pinned to one core
// (the load generator on the other), so that whatever the neighbours do they do to every variant.
// Each round moves every variant to the next process (a Latin square), so a process's own luck
// (heap layout, JIT) falls on every variant alike; ratios are taken within a round, then their
// median and its 95% interval over the rounds. At the end, what one profile read holds and costs.
// Why fresh processes each round, not bench/overhead.ts's crossover (variants swapped between
// long-lived processes): here that design measured a carry-over larger than the effect. In the
// order off → 512 KiB → 32 KiB the variant served right after `off` read 32-43% less CPU per
// request than the others (three runs, 12,000 warm-up requests per switch); reversed, 32 KiB read
// -37%. Whether a process keeps a cost after its sampler stops is not settled (docs/heap-profiles.md),
// so each round here starts three new processes, one per variant, loaded at once on one core; the
// process's own luck is then noise that the rounds' median and interval carry.
// --hold-minutes M: afterwards, the three variants under the same load for M minutes (the issue's
// 10), then what the profiler holds (samples, stack nodes, the estimate /memory shows) and RSS.
// Run: npm run bench:heap-profile -- [--rounds 9] [--seconds 5] [--rate 300] [--hold-minutes 0]
import autocannon from 'autocannon'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { positiveIntegerArgument } from '../load/arguments.js'
import type { ProfileFigures, ProfileServerMessage } from './heap-profile-server.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '300' },
    connections: { type: 'string', default: '4' },
    'warm-up': { type: 'string', default: '10000' },
    'hold-minutes': { type: 'string', default: '0' }
  }
})
const rounds = positiveIntegerArgument(values.rounds, 'rounds')
const seconds = positiveIntegerArgument(values.seconds, 'seconds')
const rate = positiveIntegerArgument(values.rate, 'rate')
const connections = positiveIntegerArgument(values.connections, 'connections')
// requests to each server after it switched variants, before the round is measured
const warmUp = positiveIntegerArgument(values['warm-up'], 'warm-up')
const holdMinutes = Number(values['hold-minutes'])
if (!Number.isInteger(holdMinutes) || holdMinutes < 0) throw new Error(`--hold-minutes must be a whole number of minutes, got "${values['hold-minutes']}"`)
const VARIANTS = [{ name: 'off', intervalBytes: 0 }, { name: '512 KiB', intervalBytes: 512 * 1024 }, { name: '32 KiB', intervalBytes: 32 * 1024 }] as const
const pin = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0
const serverScript = fileURLToPath(new URL('./heap-profile-server.ts', import.meta.url))

interface Server { child: ChildProcess, url: string }

async function ask<T> (server: Server, message: ProfileServerMessage): Promise<T> {
  server.child.send(message)
  const [answer] = await once(server.child, 'message') as [T]
  return answer
}

async function start (intervalBytes: number): Promise<Server> {
  const node = [process.execPath, '--import', 'tsx', serverScript, String(intervalBytes)]
  const [command, ...args] = pin ? ['taskset', '-c', '0', ...node] : node
  const child = spawn(command!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, url: `http://127.0.0.1:${message.port}/` }
}

/** Every server loaded at once at the same rate; each one's CPU µs per request answered. */
async function round (servers: Server[]): Promise<Array<{ cpu: number, rps: number }>> {
  const cpu = () => Promise.all(servers.map((server) => ask<{ cpuMicroseconds: number }>(server, { type: 'cpu' })))
  const before = await cpu()
  const results = await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, duration: seconds, overallRate: rate })))
  const after = await cpu()
  return results.map((result, i) => {
    if (result.errors !== 0 || result.non2xx !== 0) throw new Error(`${servers[i]!.url}: ${result.errors} errors, ${result.non2xx} non-2xx`)
    const elapsed = (result.finish.getTime() - result.start.getTime()) / 1000
    return { cpu: (after[i]!.cpuMicroseconds - before[i]!.cpuMicroseconds) / result['2xx'], rps: result['2xx'] / elapsed }
  })
}

function quantile (sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  return sorted[low]! + (sorted[Math.ceil(position)]! - sorted[low]!) * (position - low)
}

function medianWithInterval (values: number[]): { median: number, low: number, high: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const k = Math.max(0, Math.floor(sorted.length / 2 - 0.98 * Math.sqrt(sorted.length)))
  return { median: quantile(sorted, 0.5), low: sorted[k]!, high: sorted[sorted.length - 1 - k]! }
}

const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`

async function stop (servers: Server[]): Promise<void> {
  for (const { child } of servers) {
    child.disconnect()
    await once(child, 'exit')
  }
}

async function figuresOf (servers: Server[], label: string): Promise<void> {
  console.log(`\n${label}:`)
  for (const [i, server] of servers.entries()) {
    const { figures, rssBytes } = await ask<{ figures: ProfileFigures | null, rssBytes: number }>(server, { type: 'profile' })
    const held = figures === null ? 'off' : `${figures.samples} samples, ${figures.held.nodes} stack nodes, ~${(figures.held.estimatedBytes / 1024).toFixed(0)} KiB held (estimate), ${(figures.bytes / 1024).toFixed(0)} KiB of JSON, read in ${figures.readMs.toFixed(0)} ms`
    console.log(`  ${VARIANTS[i]!.name.padEnd(8)} ${held}; RSS ${(rssBytes / 1048576).toFixed(0)} MB`)
  }
}

const perVariant: number[][] = VARIANTS.map(() => [])
for (let r = 0; r < rounds; r++) {
  const servers = await Promise.all(VARIANTS.map((variant) => start(variant.intervalBytes)))
  try {
    // warm-up: JIT and the first GCs, not measured
    await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, amount: warmUp })))
    const measured = await round(servers)
    measured.forEach(({ cpu }, i) => perVariant[i]!.push(cpu))
    console.log(`round ${r + 1}/${rounds}: ${VARIANTS.map((v, i) => `${v.name} ${measured[i]!.cpu.toFixed(1)} µs (${measured[i]!.rps.toFixed(0)} req/s)`).join(', ')}`)
  } finally {
    await stop(servers)
  }
}
console.log(`\nCPU per request (${rounds} rounds of ${seconds} s at ${rate} req/s each, fresh processes each round, servers pinned: ${pin}):`)
const off = perVariant[0]!
VARIANTS.forEach((variant, i) => {
  const cpu = medianWithInterval(perVariant[i]!)
  const ratios = medianWithInterval(perVariant[i]!.map((value, r) => value / off[r]!))
  console.log(`  ${variant.name.padEnd(8)} ${cpu.median.toFixed(1)} µs (${cpu.low.toFixed(1)}–${cpu.high.toFixed(1)})` +
    (i === 0 ? '' : `  vs off: ${percent(ratios.median)} (95% interval ${percent(ratios.low)} to ${percent(ratios.high)})`))
})

if (holdMinutes > 0) {
  const servers = await Promise.all(VARIANTS.map((variant) => start(variant.intervalBytes)))
  try {
    const started = Date.now()
    while (Date.now() - started < holdMinutes * 60_000) {
      const left = Math.max(1, Math.round((holdMinutes * 60_000 - (Date.now() - started)) / 1000))
      await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, duration: Math.min(60, left), overallRate: rate })))
    }
    await figuresOf(servers, `After ${holdMinutes} min at ${rate} req/s (one profile read, which forces a full GC)`)
  } finally {
    await stop(servers)
  }
}
