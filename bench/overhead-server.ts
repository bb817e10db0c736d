// One side of bench/overhead.ts: a trivial route, with or without the plugin registered.
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { memoryDiagnostics } from '../plugin/index.js'

const withPlugin = process.argv[2] === 'plugin'
const app = Fastify()
if (withPlugin) {
  // Everything that runs in the background: GC observer, memory sampler and trend, metrics.
  await app.register(memoryDiagnostics, {
    prefix: '/_diagnostics',
    auth: { tokens: ['bench-token-0123456789abcdef'] },
    metrics: { registry: new Registry(), route: true }
  })
}
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 })
process.on('disconnect', () => { app.close().then(() => process.exit(0)) })
