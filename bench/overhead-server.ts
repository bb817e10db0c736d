// One server of bench/overhead.ts: a trivial route, next to one of the variants below. Answers the
// parent's `cpu` message with its own CPU time (all threads: GC helpers, libuv pool included), and
// `serve` by closing its app and serving a new one with another variant, in the same process (the
// crossover rounds: a process's own luck, heap layout and JIT, is then the same for both variants).
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import underPressure from '@fastify/under-pressure'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { memoryDiagnostics } from '../plugin/index.js'
import { VARIANTS } from './overhead-variants.js'
import type { Variant } from './overhead-variants.js'

// the channel the plugin's request counter listens to
const HANDLER_START = 'tracing:fastify.request.handler:start'
const auth = { tokens: ['bench-token-0123456789abcdef'] }
const snapshot = { dir: process.env.BENCH_SNAPSHOT_DIR }

const setups: Record<Variant, (app: FastifyInstance) => PromiseLike<unknown>> = {
  plain: async () => {},
  'plain-control': async () => {},
  plugin: (app) => app.register(memoryDiagnostics, { prefix: '/_diagnostics', auth, snapshot, metrics: { registry: new Registry(), route: true } }),
  'plugin-minimal': (app) => app.register(memoryDiagnostics, { prefix: '/_diagnostics', auth, snapshot }),
  'handler-traced': async (app) => {
    const noop = () => {}
    subscribe(HANDLER_START, noop)
    app.addHook('onClose', async () => { unsubscribe(HANDLER_START, noop) })
  },
  'prom-client-defaults': async () => { collectDefaultMetrics({ register: new Registry() }) },
  'under-pressure': (app) => app.register(underPressure, { maxEventLoopDelay: 1000, maxHeapUsedBytes: 1e9, maxRssBytes: 2e9, maxEventLoopUtilization: 0.98 })
}

export type ServerMessage = { type: 'cpu' } | { type: 'serve', variant: Variant }

let app: FastifyInstance | null = null

async function serve (variant: Variant): Promise<number> {
  if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}: one of ${VARIANTS.join(', ')}`)
  await app?.close()
  app = Fastify()
  await setups[variant](app)
  app.get('/', async () => ({ hello: 'world' }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return typeof address === 'object' && address !== null ? address.port : 0
}

process.send?.({ port: await serve(process.argv[2] as Variant) })
process.on('message', (message: ServerMessage) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicroseconds: user + system })
  } else {
    serve(message.variant).then((port) => process.send?.({ port }), (error: Error) => { console.error(error); process.exit(1) })
  }
})
process.on('disconnect', () => { (app?.close() ?? Promise.resolve()).then(() => process.exit(0)) })
