import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
import type { MemoryDiagnosticsOptions } from '../../plugin/index.js'

export const TOKEN = 'test-token-0123456789abcdef'
export const AUTH = { authorization: `Bearer ${TOKEN}` }

/** What the helpers need of a tap test. */
export interface Teardown {
  teardown (fn: () => unknown): void
}

export interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

export interface Built {
  app: FastifyInstance
  /** The snapshot directory: a temporary one removed in teardown unless `options.snapshot.dir` was given. */
  dir: string
  /** The app's log lines, unless `fastify.logger` was given. */
  logs: LogLine[]
}

/** A private (0700) temporary directory, removed in teardown. */
export function tempDir (t: Teardown, prefix = 'memdiag-snapshots-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A Fastify app with the plugin registered (bearer `TOKEN`, no rate limits unless given), its
 * snapshots in a temporary directory, its log lines collected; closed in teardown.
 */
export async function build (
  t: Teardown,
  options: Partial<MemoryDiagnosticsOptions> = {},
  { prefix, fastify }: { prefix?: string, fastify?: FastifyServerOptions } = {}
): Promise<Built> {
  const logs: LogLine[] = []
  const app = Fastify({
    ...fastify,
    logger: fastify?.logger ?? { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } }
  })
  // registered before the directory's removal: closing applies retention to the directory
  t.teardown(() => app.close())
  const dir = options.snapshot?.dir ?? tempDir(t)
  await app.register(memoryDiagnostics, {
    auth: { tokens: [TOKEN] },
    rateLimit: false,
    ...options,
    snapshot: { ...options.snapshot, dir },
    ...(prefix === undefined ? {} : { prefix })
  })
  await app.ready()
  return { app, dir, logs }
}
