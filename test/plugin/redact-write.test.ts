// writeRedactedSnapshot around a small snapshot (V8's own: redact.test.ts): through the pipe and
// its worker, through the raw-file fallback, the failures, and snapshot.redact through the plugin.
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import { memoryDiagnostics } from '../../plugin/index.js'
import type { MemoryDiagnosticsOptions } from '../../plugin/index.js'
import { redactionCost } from '../../plugin/snapshot/cost-model.js'
import { newSnapshotId } from '../../plugin/snapshot/names.js'
import { createSnapshotStore } from '../../plugin/snapshot/store.js'
import { redactedPlaceholder } from '../../plugin/snapshot/redact-stream.js'
import { startRedaction, writeRedactedSnapshot } from '../../plugin/snapshot/redact.js'
import type { RedactedWrite, RedactionStart } from '../../plugin/snapshot/redact.js'
import { rootedGraph, snapshotText } from '../analysis/fixtures.js'
import { AUTH, build, tempDir } from '../helpers/build-app.js'

const SECRET = 'Bearer 6f1e0c2b9a8d7e6f5a4b3c2d1e0f'
const SNAPSHOT = snapshotText(rootedGraph([{ type: 'object', name: 'Session', id: 5, size: 24, edges: [{ type: 'property', name: 'token', to: 3 }] }, { type: 'string', name: SECRET, id: 7, size: 48 }]))

function options (t: Parameters<typeof tempDir>[0], writeHeap: (path: string) => void, extra: Partial<RedactionStart & RedactedWrite> = {}) {
  const dir = tempDir(t)
  const out = join(dir, 'out.heapsnapshot')
  closeSync(openSync(out, 'wx', 0o600))
  const closed: string[] = []
  return { dir, out, closed, options: { writeHeap, raw: join(dir, 'raw'), out, redaction: { keepShorterThan: 0 }, closeLeftovers: (path: string) => { closed.push(path) }, ...extra } }
}

for (const via of ['pipe', 'file'] as const) {
  t.test(`through the ${via}: the file written is the redacted snapshot, and nothing else is left`, async (t) => {
    const { dir, out, options: opts } = options(t, (path) => { writeFileSync(path, SNAPSHOT) }, { via })
    const report = await writeRedactedSnapshot(opts)
    t.same(report, { strings: 7, redactedStrings: 1, keptValues: 0, via })
    const strings = (JSON.parse(readFileSync(out, 'utf8')) as { strings: string[] }).strings
    t.notOk(strings.includes(SECRET))
    t.ok(strings.includes(redactedPlaceholder(SECRET.length)))
    t.ok(strings.includes('Session') && strings.includes('token'))
    t.same(readdirSync(dir), ['out.heapsnapshot'], 'the pipe or raw file is removed')
  })

  t.test(`through the ${via}: a writer that fails leaves its error, closes what it left, and nothing hangs`, async (t) => {
    const { dir, closed, options: opts } = options(t, () => { throw new Error('ENOSPC: no space left on device') }, { via })
    await t.rejects(writeRedactedSnapshot(opts), /ENOSPC/)
    t.same(closed, [opts.raw], 'the descriptors left on the raw path are closed')
    t.same(readdirSync(dir), ['out.heapsnapshot'])
  })

  t.test(`through the ${via}: what is no snapshot fails the write, never passes through`, async (t) => {
    const { options: opts } = options(t, (path) => { writeFileSync(path, SNAPSHOT.slice(0, SNAPSHOT.length / 2)) }, { via })
    await t.rejects(writeRedactedSnapshot(opts), /ended before its string table/)
  })
}

t.test('a redaction started and never written (the write failed before V8): abort releases the worker and the pipe', async (t) => {
  const { dir, options: opts } = options(t, () => {})
  const started = await startRedaction(opts)
  t.ok(readdirSync(dir).includes('raw'), 'the pipe is made before the event loop blocks')
  started.abort()
  started.abort()
  t.same(readdirSync(dir), ['out.heapsnapshot'])
})

t.test('a writer that fails after writing part of the pipe: its error, not a hang', async (t) => {
  const { options: opts } = options(t, (path) => {
    const fd = openSync(path, 'w')
    writeFileSync(fd, SNAPSHOT.slice(0, 100))
    closeSync(fd)
    throw new Error('EIO: i/o error')
  })
  await t.rejects(writeRedactedSnapshot(opts), /EIO/)
})

t.test('snapshot.redact through the plugin: the 201 and /memory say it, and the guard counts it', async (t) => {
  const { app } = await build(t, { snapshot: { redact: true } })
  const res = await app.inject({ method: 'POST', url: '/heap-snapshot', headers: AUTH })
  t.equal(res.statusCode, 201)
  t.match(res.json(), { redaction: { strings: Number, redactedStrings: Number, keptValues: Number, via: 'pipe' } })
  const memory = (await app.inject({ method: 'GET', url: '/memory', headers: AUTH })).json()
  t.match(memory.snapshot.last, { redaction: { via: 'pipe' } })
  t.ok(memory.snapshot.estimate.redactionBytes >= 40 * 1024 * 1024, 'the estimate includes the worker')
  t.match(memory.snapshot.reason, /for redaction/)

  const { app: plain } = await build(t)
  const off = (await plain.inject({ method: 'POST', url: '/heap-snapshot', headers: AUTH })).json()
  t.equal(off.redaction, undefined, 'off by default')
  t.equal((await plain.inject({ method: 'GET', url: '/memory', headers: AUTH })).json().snapshot.estimate.redactionBytes, 0)
})

t.test('a raw pipe or file left by a process that is gone (killed mid-snapshot) is removed by retention', async (t) => {
  const dir = tempDir(t)
  const dead = `heap-${newSnapshotId()}.999999999.raw.heapsnapshot.tmp`
  writeFileSync(join(dir, dead), '', { mode: 0o600 })
  t.same(createSnapshotStore({ dir, maxFiles: 3, maxAgeMs: 3_600_000 }).applyRetention(), [dead])
})

t.test('what redaction costs: its worker and buffers, and 2 bits per possible string', async (t) => {
  t.equal(redactionCost({ largeObjectBytes: 0, otherHeapBytes: 0 }), 40 * 1024 * 1024)
  t.equal(redactionCost({ largeObjectBytes: 0, otherHeapBytes: 12e6 }) - redactionCost({ largeObjectBytes: 0, otherHeapBytes: 0 }), 250_000, 'a million strings at most in 12 MB: 250 KB')
})

t.test('snapshot.redact: bad settings fail registration', async (t) => {
  for (const redact of ['yes', null, [], { keepShorterThan: -1 }, { keepShorterThan: 2.5 }, { keepUrls: true }]) {
    const app = Fastify()
    app.register(memoryDiagnostics, { auth: false, snapshot: { redact } } as unknown as MemoryDiagnosticsOptions)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message: /snapshot\.redact/ }, JSON.stringify(redact))
    await app.close()
  }
})
