// What does the per-route request counter cost each request? CPU time of the same route through
// app.inject, with the counter subscribed and not, alternating blocks in one process (the
// difference is below what throughput on a shared machine resolves).
// Run: node --import tsx bench/request-counter.ts [--blocks 20] [--requests 20000]
import { tracingChannel } from 'node:diagnostics_channel'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { createRequestCounter } from '../plugin/request-counter.js'

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '20' }, requests: { type: 'string', default: '20000' } } })
const blocks = Number(values.blocks)
const requests = Number(values.requests)

const app = Fastify()
app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }))
await app.register(async (child) => { child.post('/posts', async () => ({ ok: true })) }, { prefix: '/v1' })
await app.ready()

async function cpuNsPerRequest (): Promise<number> {
  const started = process.cpuUsage()
  for (let i = 0; i < requests; i++) {
    await app.inject(i % 2 === 0 ? { url: `/users/${i}` } : { method: 'POST', url: '/v1/posts', payload: {} })
  }
  const used = process.cpuUsage(started)
  return (used.user + used.system) * 1000 / requests
}

function median (list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

await cpuNsPerRequest() // warm-up, both paths
const counter = createRequestCounter(app)
await cpuNsPerRequest()
counter.stop()

const differences: number[] = []
const off: number[] = []
for (let b = 0; b < blocks; b++) {
  const without = await cpuNsPerRequest()
  const running = createRequestCounter(app)
  const withCounter = await cpuNsPerRequest()
  running.stop()
  off.push(without)
  differences.push(withCounter - without)
}
const sorted = [...differences].sort((a, b) => a - b)
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
console.log(`request through app.inject without the counter: median ${median(off).toFixed(0)} ns CPU`)
console.log(`counter's cost: median ${median(differences).toFixed(0)} ns CPU per request (quartiles ${q(0.25).toFixed(0)} .. ${q(0.75).toFixed(0)}, ${blocks} alternating pairs of ${requests} requests)`)

// The same, isolated: what Fastify does per request once the channel has a subscriber (build the
// message, run the handler inside runStores) and the counter's own work, against calling the
// handler directly: millions of calls resolve what the requests above cannot.
const channel = tracingChannel('fastify.request.handler')
// what the counter reads of a request: its app (the same http server) and its method
const fastifyRequest = { server: app, method: 'GET' }
const route = { url: '/users/:id', method: 'GET' }
let sink = 0
const inner = (_err: unknown, request: { method: string }) => { sink += request.method.length }
function direct (calls: number): number {
  const started = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) inner(null, fastifyRequest)
  return Number(process.hrtime.bigint() - started) / calls
}
function published (calls: number): number {
  const started = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) {
    const store = { request: fastifyRequest, reply: {}, async: false, route: { url: route.url, method: route.method } }
    // as Fastify calls it (lib/handle-request.js): runStores(store, fn, thisArg, ...fn's arguments)
    ;(channel.start.runStores as (...args: unknown[]) => void)(store, inner, undefined, null, fastifyRequest, {}, store)
  }
  return Number(process.hrtime.bigint() - started) / calls
}
const micro: number[] = []
const calls = 1_000_000
for (let b = 0; b < blocks; b++) {
  const base = direct(calls)
  const running = createRequestCounter(app)
  const counted = published(calls)
  running.stop()
  micro.push(counted - base)
}
const microSorted = [...micro].sort((a, b) => a - b)
console.log(`isolated: median ${median(micro).toFixed(0)} ns per request (min ${microSorted[0]!.toFixed(0)}, max ${microSorted[microSorted.length - 1]!.toFixed(0)}, ${blocks} pairs of ${calls} calls)`)
if (sink === 0) throw new Error('the handler never ran')
await app.close()
