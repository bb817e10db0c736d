// One server of bench/overhead.ts: a trivial route, next to one of the variants below. Answers the
// parent's `cpu` message with its own CPU time (all threads: GC helpers, libuv pool included).
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import underPressure from '@fastify/under-pressure'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { memoryDiagnostics } from '../plugin/index.js'
import { VARIANTS } from './overhead-variants.js'
import type { Variant } from './overhead-variants.js'

const auth = { tokens: ['bench-token-0123456789abcdef'] }
const snapshot = { dir: process.env.BENCH_SNAPSHOT_DIR }

const setups: Record<Variant, (app: FastifyInstance) => PromiseLike<unknown>> = {
  plain: async () => {},
  'plain-control': async () => {},
  plugin: (app) => app.register(memoryDiagnostics, { prefix: '/_diagnostics', auth, snapshot, metrics: { registry: new Registry(), route: true } }),
  'plugin-minimal': (app) => app.register(memoryDiagnostics, { prefix: '/_diagnostics', auth, snapshot }),
  'prom-client-defaults': async () => { collectDefaultMetrics({ register: new Registry() }) },
  'under-pressure': (app) => app.register(underPressure, { maxEventLoopDelay: 1000, maxHeapUsedBytes: 1e9, maxRssBytes: 2e9, maxEventLoopUtilization: 0.98 })
}

const variant = process.argv[2] as Variant
if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}: one of ${VARIANTS.join(', ')}`)
const app = Fastify()
await setups[variant](app)
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 })
process.on('message', () => {
  const { user, system } = process.cpuUsage()
  process.send?.({ cpuMicroseconds: user + system })
})
process.on('disconnect', () => { app.close().then(() => process.exit(0)) })
