import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
import type { MemoryDiagnosticsOptions } from '../../plugin/index.js'

export const TOKEN = 'test-token-0123456789abcdef'
export const AUTH = { authorization: `Bearer ${TOKEN}` }

interface Teardown { teardown (fn: () => unknown): void }

/** A Fastify app with the plugin under `/diag`, closed when the test ends. */
export async function buildApp (
  t: Teardown,
  options: Partial<MemoryDiagnosticsOptions> = {},
  serverOptions: FastifyServerOptions = {}
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions)
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: [TOKEN] }, ...options })
  await app.ready()
  return app
}
