import { rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import memoryDiagnostics from '../../plugin/index.js'
import type { MemoryDiagnosticsOptions } from '../../plugin/index.js'
import { resolveOptions } from '../../plugin/options.js'
import { filesIn, snapshotId } from '../fixtures/snapshot-app.js'
import { build, AUTH as headers, tempDir, TOKEN } from '../helpers/build-app.js'

const MIB = 1024 * 1024

t.test('snapshot options have explicit defaults', async (t) => {
  const resolved = resolveOptions({ auth: false })
  t.same(resolved.snapshot, {
    dir: join(tmpdir(), `fastify-memory-diagnostics-${process.getuid?.()}`),
    guard: true,
    marginBytes: 64 * MIB,
    maxHeapUsedBytes: null,
    maxFiles: 3,
    maxAgeMs: 3_600_000,
    sendTimeoutMs: 30_000,
    cacheLineEnds: true,
    redact: false
  })
  t.same(resolved.rateLimit.takeSnapshot, { max: 2, timeWindow: 600_000 })
  t.same(resolved.rateLimit.snapshotFiles, { max: 60, timeWindow: 60_000 })
  t.same(resolveOptions({ auth: false, rateLimit: false }).rateLimit, { memory: false, gcStats: false, takeSnapshot: false, snapshotFiles: false, metrics: false, heapProfile: false })
  const given = resolveOptions({
    auth: false,
    rateLimit: { takeSnapshot: { max: 1, timeWindow: '1 hour' }, snapshotFiles: false },
    snapshot: { dir: 'relative/dir', guard: false, marginBytes: 0, maxHeapUsedBytes: 512 * MIB, maxFiles: 1, maxAgeMs: 1000, sendTimeoutMs: 500, cacheLineEnds: false, redact: true }
  })
  t.same(given.snapshot, {
    dir: join(process.cwd(), 'relative/dir'),
    guard: false,
    marginBytes: 0,
    maxHeapUsedBytes: 512 * MIB,
    maxFiles: 1,
    maxAgeMs: 1000,
    sendTimeoutMs: 500,
    cacheLineEnds: false,
    redact: { keepShorterThan: 0 }
  })
  t.same(resolveOptions({ auth: false, snapshot: { redact: { keepShorterThan: 8 } } }).snapshot.redact, { keepShorterThan: 8 })
  t.same(resolveOptions({ auth: false, snapshot: { redact: {} } }).snapshot.redact, { keepShorterThan: 0 })
  t.same(given.rateLimit.takeSnapshot, { max: 1, timeWindow: '1 hour' })
  t.equal(given.rateLimit.snapshotFiles, false)
})

t.test('invalid snapshot options fail registration', async (t) => {
  const invalid: Array<[string, unknown]> = [
    ['snapshot', 'yes'],
    ['snapshot', null],
    ['snapshot.guard', 'false'],
    ['snapshot.cacheLineEnds', 1],
    ['snapshot.factor', 12.5],
    ['snapshot.sendTimeoutMs', 0],
    ['snapshot.sendTimeoutMs', 1.5],
    ['snapshot.sendTimeoutMs', '30s'],
    ['snapshot.marginBytes', -1],
    ['snapshot.marginBytes', 1.5],
    ['snapshot.maxHeapUsedBytes', 0],
    ['snapshot.maxFiles', 0],
    ['snapshot.maxAgeMs', 2.5],
    ['snapshot.dir', ''],
    ['snapshot.dir', 42],
    ['rateLimit.takeSnapshot', { max: 0 }],
    ['rateLimit.snapshotFiles', 'often']
  ]
  for (const [path, value] of invalid) {
    const [section, field] = path.split('.') as [string, string | undefined]
    const options = { auth: false, [section]: field === undefined ? value : { [field]: value } } as unknown as MemoryDiagnosticsOptions
    const app = Fastify()
    app.register(memoryDiagnostics, options)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message: new RegExp(section) }, `${path}: ${String(value)}`)
    await app.close()
  }
})

t.test('the caller\'s options are not mutated', async (t) => {
  const options = {
    auth: { tokens: [TOKEN] },
    rateLimit: { takeSnapshot: { max: 5, timeWindow: 1000 } },
    snapshot: { dir: join(tmpdir(), `memdiag-options-${process.pid}`), maxFiles: 2 }
  }
  t.teardown(() => rmSync(options.snapshot.dir, { recursive: true, force: true }))
  const before = structuredClone(options)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, Object.freeze(options))
  await app.ready()
  t.same(options, before)
})

t.test('the default directory is a private folder of the temporary directory, created 0700', async (t) => {
  // os.tmpdir() follows TMPDIR: this test's own, so that the real default is left alone
  const previous = process.env.TMPDIR
  process.env.TMPDIR = tempDir(t)
  t.teardown(() => {
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
  })
  const dir = join(tmpdir(), `fastify-memory-diagnostics-${process.getuid?.()}`)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { auth: false })
  await app.ready()
  t.equal(statSync(dir).mode & 0o777, 0o700)
})

t.test('the headroom guard refuses with 503, the figures and Retry-After; nothing is written', async (t) => {
  const { app, dir } = await build(t, { snapshot: { maxHeapUsedBytes: 1024 } })
  for (const url of ['/heap-snapshot', '/heap-snapshot?download=true', '/heap-snapshot?wait=false']) {
    const res = await app.inject({ method: 'POST', url, headers })
    t.equal(res.statusCode, 503, url)
    t.equal(res.headers['retry-after'], '60')
    t.match(res.json(), {
      statusCode: 503,
      code: 'FST_MEMDIAG_INSUFFICIENT_HEADROOM',
      error: 'Service Unavailable',
      message: /^Not enough memory headroom for a heap snapshot: a snapshot needs about .* more than the .* available \(the budget of snapshot.maxHeapUsedBytes 1.0 KiB\); the sampling heap profile is available: GET \/heap-profile/,
      heapUsedBytes: Number,
      estimatedBytes: Number,
      availableBytes: Number,
      source: 'maxHeapUsedBytes',
      basis: 'conservative-bound',
      estimate: { basis: 'conservative-bound', boundBytes: Number, learnedRatio: null, marginBytes: 64 * MIB }
    })
    t.ok(res.json().availableBytes <= 64 * MIB + 1024 * 55, 'the budget of a 1 KiB heap')
  }
  const memory = await app.inject({ method: 'GET', url: '/memory', headers })
  t.match(memory.json().snapshot, { allowed: false, source: 'maxHeapUsedBytes', inProgress: false, last: null })
  t.same(filesIn(dir), [])
})

t.test('`snapshot.guard: false` allows what the guard would refuse, with a warning at startup', async (t) => {
  const { app, logs } = await build(t, { snapshot: { guard: false, maxHeapUsedBytes: 1024 } })
  t.match(logs.find((line) => line.msg.includes('headroom guard is disabled')), { level: 40 })
  const memory = await app.inject({ method: 'GET', url: '/memory', headers })
  t.match(memory.json().snapshot, { allowed: true, reason: /^headroom guard disabled/, source: 'maxHeapUsedBytes' })
})

t.test('rate limits: POST has its own small budget; polling GET and DELETE do not use it', async (t) => {
  // A request the handler refuses (400: download=true cannot go with wait=false) has passed route
  // access (auth, rate limit) and spent a credit, without a snapshot. (A 409 or 503 is answered
  // before the limit.)
  const { app } = await build(t, { rateLimit: {} })
  const statuses = []
  for (let i = 0; i < 3; i++) {
    statuses.push((await app.inject({ method: 'POST', url: '/heap-snapshot?download=true&wait=false', headers })).statusCode)
  }
  t.same(statuses, [400, 400, 429], 'two snapshot requests per 10 minutes by default')
  const polls = []
  for (let i = 0; i < 5; i++) {
    polls.push((await app.inject({ method: 'GET', url: `/heap-snapshot/${snapshotId()}`, headers })).statusCode)
  }
  t.same(polls, [404, 404, 404, 404, 404])
  const limited = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'FST_MEMDIAG_RATE_LIMITED')

  const { app: small } = await build(t, { rateLimit: { snapshotFiles: { max: 2, timeWindow: 60_000 } } })
  const files = []
  for (const method of ['GET', 'GET', 'GET', 'DELETE', 'DELETE', 'DELETE'] as const) {
    files.push((await small.inject({ method, url: `/heap-snapshot/${snapshotId()}`, headers })).statusCode)
  }
  t.same(files, [404, 404, 429, 404, 404, 429], '`snapshotFiles` applies to GET and to DELETE')
})
