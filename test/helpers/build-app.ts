import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
import type { MemoryDiagnosticsOptions } from '../../plugin/index.js'
import { HEAP_WRITER } from '../../plugin/snapshot/heap-writer.js'
import { rootedGraph, snapshotText } from '../analysis/fixtures.js'

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

// A small heap snapshot in V8's layout, for tests of what surrounds the serialization (routes,
// locks, files, downloads): V8 takes seconds per snapshot of a test process.
const SMALL_SNAPSHOT = snapshotText(rootedGraph([{ type: 'object', name: 'Kept', id: 5, size: 24 }]))

/** Writes SMALL_SNAPSHOT where V8 would write this process's heap. */
export function writeSmallSnapshot (path: string): void {
  writeFileSync(path, SMALL_SNAPSHOT)
}

/**
 * A Fastify app with the plugin registered (bearer `TOKEN`, no rate limits unless given), its
 * snapshots in a temporary directory, its log lines collected; closed in teardown. Its snapshots
 * are small files written instead of V8's (see SMALL_SNAPSHOT; or by `writeHeap`) unless `realSnapshots` is set.
 */
export async function build (
  t: Teardown,
  options: Partial<MemoryDiagnosticsOptions> = {},
  { prefix, fastify, realSnapshots = false, writeHeap = writeSmallSnapshot }: { prefix?: string, fastify?: FastifyServerOptions, realSnapshots?: boolean, writeHeap?: (path: string) => void } = {}
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
    ...(prefix === undefined ? {} : { prefix }),
    ...(realSnapshots ? {} : { [HEAP_WRITER]: writeHeap })
  })
  await app.ready()
  return { app, dir, logs }
}
