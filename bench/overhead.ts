// Does registering the plugin slow the application's own routes? And what does one call of the
// /memory and /gc-stats handlers cost? Run: npx tsx bench/overhead.ts [--pairs 5] [--seconds 3]
import autocannon from 'autocannon'
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { openCgroupProbe } from '../plugin/cgroup.js'
import { createGcRecorder } from '../plugin/gc-recorder.js'
import { createTrendMonitor } from '../plugin/trend/monitor.js'
import { resolveTrendThresholds } from '../plugin/trend/thresholds.js'
import { createMemoryProbe } from '../plugin/memory-probe.js'

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '3' } } })
const pairs = Number(values.pairs)
const seconds = Number(values.seconds)
const server = fileURLToPath(new URL('./overhead-server.ts', import.meta.url))

async function start (variant: 'plain' | 'plugin'): Promise<{ child: ChildProcess, url: string }> {
  const child = fork(server, [variant], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, url: `http://127.0.0.1:${message.port}/` }
}

async function requestsPerSecond (variant: 'plain' | 'plugin'): Promise<number> {
  const { child, url } = await start(variant)
  try {
    await autocannon({ url, connections: 10, duration: 1 }) // warm-up: JIT, sockets
    const result = await autocannon({ url, connections: 10, duration: seconds })
    return result.requests.average
  } finally {
    child.disconnect()
    await once(child, 'exit')
  }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function microsecondsPerCall (fn: () => unknown, iterations = 20_000): number {
  for (let i = 0; i < 1000; i++) fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) fn()
  return Number(process.hrtime.bigint() - start) / iterations / 1000
}

const ratios: number[] = []
console.log(`req/s of a trivial route, plain Fastify vs with the plugin, ${pairs} alternating pairs of ${seconds} s`)
for (let i = 0; i < pairs; i++) {
  // Alternate which side runs first so that drift on this noisy machine favours neither.
  const order: Array<'plain' | 'plugin'> = i % 2 === 0 ? ['plain', 'plugin'] : ['plugin', 'plain']
  const result: Record<string, number> = {}
  for (const variant of order) result[variant] = await requestsPerSecond(variant)
  const ratio = result.plugin! / result.plain!
  ratios.push(ratio)
  console.log(`  pair ${i + 1}: plain ${result.plain!.toFixed(0)}  plugin ${result.plugin!.toFixed(0)}  ratio ${ratio.toFixed(3)}`)
}
console.log(`median req/s ratio (plugin / plain): ${median(ratios).toFixed(3)}  (goal >= 0.99)`)

const cgroup = openCgroupProbe('/sys/fs/cgroup', '/proc/self/cgroup')
const probe = createMemoryProbe(cgroup)
const recorder = createGcRecorder({ windowMs: 60_000 })
for (let i = 0; i < 200; i++) recorder.record(i % 2 === 0 ? 'minor' : 'major', 0.5 + i / 100)
console.log(`one /memory handler call:   ${microsecondsPerCall(() => probe.read()).toFixed(1)} µs  (goal <= 50)`)
console.log(`one /gc-stats handler call: ${microsecondsPerCall(() => recorder.stats()).toFixed(1)} µs  (goal <= 50)`)
const monitor = createTrendMonitor({ intervalMs: 5000, capacityMs: 3_600_000, thresholds: resolveTrendThresholds(), readLimits: () => ({ heapLimitBytes: 4e9, containerLimitBytes: null, containerUsageBytes: null }) })
console.log(`one leak verdict read (/memory's trend): ${microsecondsPerCall(() => monitor.report()).toFixed(2)} µs`)
monitor.stop()
recorder.stop()
cgroup.close()
