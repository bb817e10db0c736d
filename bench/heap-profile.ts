// What does the sampling heap profiler cost the application's requests? CPU time per request of a
// small JSON route with the profiler off, at 512 KiB (the default) and at 32 KiB, measured as
// bench/overhead.ts does: all servers loaded at once, at the same fixed rate, pinned to one core
// (the load generator on the other), so that whatever the neighbours do they do to every variant.
// Each round moves every variant to the next process (a Latin square), so a process's own luck
// (heap layout, JIT) falls on every variant alike; ratios are taken within a round, then their
// median and its 95% interval over the rounds. At the end, what one profile read holds and costs.
// Not yet trusted: a carry-over between variants in one process dominates. In the order
// off → 512 KiB → 32 KiB the variant served right after `off` (512 KiB) measured 32-43% less CPU
// per request than the others (three runs, even with 12,000 warm-up requests per switch); in the
// reverse order it was 32 KiB, -37%. So what a process served before (an app whose close stopped
// the sampler, or not) costs more than the profiler itself. Until that is understood (does
// stopping the sampler leave a lasting cost? that would matter for DELETE /heap-profile), quote
// the in-process loop instead (512 KiB within ±5% of off, 32 KiB +7-12%), or run fresh processes.
// Run: npm run bench:heap-profile -- [--rounds 9] [--seconds 5] [--rate 300]
import autocannon from 'autocannon'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { positiveIntegerArgument } from '../load/arguments.js'
import type { ProfileServerMessage } from './heap-profile-server.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '300' },
    connections: { type: 'string', default: '4' },
    'warm-up': { type: 'string', default: '2000' }
  }
})
const rounds = positiveIntegerArgument(values.rounds, 'rounds')
const seconds = positiveIntegerArgument(values.seconds, 'seconds')
const rate = positiveIntegerArgument(values.rate, 'rate')
const connections = positiveIntegerArgument(values.connections, 'connections')
// requests to each server after it switched variants, before the round is measured
const warmUp = positiveIntegerArgument(values['warm-up'], 'warm-up')
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

const servers: Server[] = []
for (const variant of VARIANTS) servers.push(await start(variant.intervalBytes))
try {
  // warm-up: JIT and the first GCs, not measured
  await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, amount: 10_000 })))
  const perVariant: number[][] = VARIANTS.map(() => [])
  for (let r = 0; r < rounds; r++) {
    // process p serves variant (p + r) mod 3
    const assignment = servers.map((_, p) => (p + r) % VARIANTS.length)
    await Promise.all(servers.map(async (server, p) => {
      const { port } = await ask<{ port: number }>(server, { type: 'serve', intervalBytes: VARIANTS[assignment[p]!]!.intervalBytes })
      server.url = `http://127.0.0.1:${port}/`
    }))
    await Promise.all(servers.map((server) => autocannon({ url: server.url, connections, amount: warmUp })))
    const measured = await round(servers)
    assignment.forEach((variant, p) => perVariant[variant]!.push(measured[p]!.cpu))
    const rps = VARIANTS.map((_, i) => measured[assignment.indexOf(i)]!.rps)
    console.log(`round ${r + 1}/${rounds}: ${VARIANTS.map((v, i) => `${v.name} ${perVariant[i]!.at(-1)!.toFixed(1)} µs (${rps[i]!.toFixed(0)} req/s)`).join(', ')}`)
  }
  console.log(`\nCPU per request (${rounds} rounds of ${seconds} s at ${rate} req/s each, servers pinned: ${pin}):`)
  const off = perVariant[0]!
  VARIANTS.forEach((variant, i) => {
    const cpu = medianWithInterval(perVariant[i]!)
    const ratios = medianWithInterval(perVariant[i]!.map((value, r) => value / off[r]!))
    console.log(`  ${variant.name.padEnd(8)} ${cpu.median.toFixed(1)} µs (${cpu.low.toFixed(1)}–${cpu.high.toFixed(1)})` +
      (i === 0 ? '' : `  vs off: ${percent(ratios.median)} (95% interval ${percent(ratios.low)} to ${percent(ratios.high)})`))
  })
  console.log('\nOne profile read after the run (forces a full GC):')
  for (const [p, server] of servers.entries()) {
    const variant = VARIANTS[(p + rounds - 1) % VARIANTS.length]!
    const { figures, rssBytes } = await ask<{ figures: { samples: number, bytes: number, readMs: number } | null, rssBytes: number }>(server, { type: 'profile' })
    console.log(`  ${variant.name.padEnd(8)} ${figures === null ? 'off' : `${figures.samples} samples, ${(figures.bytes / 1024).toFixed(0)} KiB of JSON, read in ${figures.readMs.toFixed(0)} ms`}; RSS ${(rssBytes / 1048576).toFixed(0)} MB`)
  }
} finally {
  for (const { child } of servers) {
    child.disconnect()
    await once(child, 'exit')
  }
}
