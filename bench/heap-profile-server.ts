// One server of bench/heap-profile.ts: a route that allocates like a small JSON API, the plugin
// registered with the sampling heap profiler off or at a given interval. Answers the parent's `cpu`
// message with its CPU time, `profile` with what a profile read now holds and costs, and `serve`
// by serving a new app with another interval in the same process (so that each process runs every
// variant in turn, and its own luck cancels out).
import { performance } from 'node:perf_hooks'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { memoryDiagnostics } from '../plugin/index.js'

export type ProfileServerMessage = { type: 'cpu' } | { type: 'profile' } | { type: 'serve', intervalBytes: number }

const TOKEN = 'bench-token-0123456789abcdef'
let app: FastifyInstance | null = null
let port = 0

async function serve (intervalBytes: number): Promise<number> {
  await app?.close()
  app = Fastify()
  await app.register(memoryDiagnostics, {
    prefix: '/_diagnostics',
    auth: { tokens: [TOKEN] },
    rateLimit: false,
    ...(intervalBytes === 0 ? {} : { heapProfile: { continuous: true, intervalBytes } })
  })
  app.get('/', async function listItems () {
    const items = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] }))
    return { count: items.length, first: items[0] }
  })
  await app.listen({ port, host: '127.0.0.1' })
  const address = app.server.address()
  port = typeof address === 'object' && address !== null ? address.port : 0
  return port
}

export interface ProfileFigures {
  samples: number
  bytes: number
  readMs: number
  /** `/memory`'s `heapProfile.memory` after the read: the profiler's own samples, nodes and estimated bytes. */
  held: { samples: number, nodes: number, estimatedBytes: number }
}

async function profileFigures (): Promise<ProfileFigures | null> {
  const headers = { authorization: `Bearer ${TOKEN}` }
  const started = performance.now()
  const res = await app!.inject({ url: '/_diagnostics/heap-profile', headers })
  const readMs = performance.now() - started
  if (res.statusCode !== 200) return null
  const memory = (await app!.inject({ url: '/_diagnostics/memory', headers })).json() as { heapProfile: { memory: ProfileFigures['held'] } }
  return { samples: (JSON.parse(res.body) as { samples: unknown[] }).samples.length, bytes: res.rawPayload.length, readMs, held: memory.heapProfile.memory }
}

process.send?.({ port: await serve(Number(process.argv[2])) })
process.on('message', (message: ProfileServerMessage) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicroseconds: user + system })
  } else if (message.type === 'profile') {
    profileFigures().then((figures) => process.send?.({ figures, rssBytes: process.memoryUsage.rss() }), (error: Error) => { console.error(error); process.exit(1) })
  } else {
    serve(message.intervalBytes).then((served) => process.send?.({ port: served }), (error: Error) => { console.error(error); process.exit(1) })
  }
})
process.on('disconnect', () => { (app?.close() ?? Promise.resolve()).then(() => process.exit(0)) })
