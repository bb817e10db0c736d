import t from 'tap'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parsePrometheusText } from '../helpers/prometheus-text.js'
import { AUTH, TOKEN, build, tempDir } from '../helpers/build-app.js'
import { missingPrerequisite } from '../helpers/missing-prerequisite.js'
import { snapshotsIdle } from '../fixtures/snapshot-app.js'

const gc = globalThis.gc as () => void

// promtool comes from Debian's prometheus package: .ci/run installs it (prometheus/install-promtool.sh);
// a test never installs packages.
const promtoolMissing = missingPrerequisite(t, promtoolOnPath() ? false : 'promtool is not on PATH: run prometheus/install-promtool.sh (as .ci/run does) to lint the metrics with Prometheus\' own parser')

function promtoolOnPath (): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

t.test('GET /metrics is absent unless asked for', async (t) => {
  const registry = new Registry()
  const { app } = await build(t, { metrics: { registry } }, { prefix: '/diag' })
  t.equal((await app.inject({ url: '/diag/metrics', headers: AUTH })).statusCode, 404)
  t.match(await registry.metrics(), /memdiag_heap_used_bytes/, 'the metrics are still registered on the application\'s registry')
})

t.test('GET /metrics: memdiag_* metrics beside the default ones, behind the token', async (t) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const { app } = await build(t, { metrics: { registry, route: true } }, { prefix: '/diag' })
  t.equal((await app.inject({ url: '/diag/metrics' })).statusCode, 401, 'no token: 401')
  t.equal((await app.inject({ url: '/diag/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)

  gc()
  gc()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const res = await app.inject({ url: '/diag/metrics', headers: AUTH })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.test('promtool (Prometheus\' own parser and linter) accepts the memdiag_* metrics', { skip: promtoolMissing }, async (t) => {
    const lint = execFileSync('promtool', ['check', 'metrics'], { input: res.body.split('\n').filter((line) => line.includes('memdiag_')).join('\n') + '\n', encoding: 'utf8' })
    t.equal(lint, '')
  })
  const families = parsePrometheusText(res.body)
  t.ok(families.has('nodejs_heap_size_used_bytes'), 'prom-client defaults still there, no clash')
  for (const name of ['memdiag_heap_used_bytes', 'memdiag_heap_total_bytes', 'memdiag_process_resident_memory_bytes', 'memdiag_external_memory_bytes', 'memdiag_heap_used_after_gc_bytes']) {
    const [sample] = families.get(name)?.samples ?? []
    t.ok(sample !== undefined && sample.value > 0, `${name} = ${sample?.value}`)
  }
  t.equal(families.get('memdiag_heap_used_bytes')?.type, 'gauge')
  t.test('memory outside the heap: the kernel\'s view beside V8\'s', async (t) => {
    const value = (name: string) => families.get(name)?.samples[0]?.value
    const status = readFileSync('/proc/self/status', 'utf8')
    const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)![1]) * 1024
    const anon = value('memdiag_resident_anonymous_bytes')!
    t.ok(Math.abs(anon - kB('RssAnon')) < 64 * 1024 * 1024, `resident anonymous ${anon} is RssAnon (${kB('RssAnon')})`)
    t.ok(value('memdiag_resident_file_bytes')! > 0)
    t.ok(value('memdiag_threads')! >= 2, `threads ${value('memdiag_threads')}: the main one and V8's helpers`)
    t.ok(value('memdiag_array_buffers_bytes')! <= value('memdiag_external_memory_bytes')!, 'array buffers are part of external')
    const unexplained = value('memdiag_unexplained_memory_bytes')!
    t.ok(unexplained > 0 && unexplained < anon, `unexplained ${unexplained}: anonymous RSS less the heap and external`)
    const growth = families.get('memdiag_unexplained_growth_bytes_per_minute')
    t.equal(growth?.type, 'gauge')
    t.ok(growth!.samples.length <= 1 && growth!.samples.every((s) => Number.isFinite(s.value)), 'the trend\'s slope of it, or nothing before two samples')
  })
  const verdicts = families.get('memdiag_leak_verdict')!.samples
  t.same(verdicts.map((s) => s.labels.verdict).sort(), ['growing-heap', 'growing-native', 'insufficient-data', 'steady'])
  t.same(verdicts.filter((s) => s.value === 1).map((s) => s.labels.verdict), ['insufficient-data'], 'exactly one verdict is current')
  const timeToLimit = families.get('memdiag_time_to_memory_limit_seconds')
  t.equal(timeToLimit?.type, 'gauge', 'the time to the limit is exported')
  t.same(timeToLimit?.samples, [], 'with no value while nothing grows')

  const pauses = families.get('memdiag_gc_pause_seconds')!
  t.equal(pauses.type, 'histogram')
  const majorCount = pauses.samples.find((s) => s.name === 'memdiag_gc_pause_seconds_count' && s.labels.kind === 'major')
  t.ok(majorCount !== undefined && majorCount.value >= 2, `major GC pauses counted (${majorCount?.value})`)
  t.ok(pauses.samples.some((s) => s.name === 'memdiag_gc_pause_seconds_bucket' && s.labels.kind === 'major' && s.labels.le === '+Inf'))

  const refused = families.get('memdiag_snapshots_refused_total')!
  t.equal(refused.type, 'counter')
  t.same(refused.samples.map((s) => [s.labels.reason, s.value]).sort(), [['headroom', 0], ['in_progress', 0], ['rate_limited', 0]], 'every reason exported from zero')
  t.same(families.get('memdiag_snapshots_taken_total')!.samples.map((s) => s.value), [0])
})

t.test('metrics.auth: false lets a scraper in without the token (the other routes keep it)', async (t) => {
  const registry = new Registry()
  const { app } = await build(t, { metrics: { registry, route: true, auth: false } }, { prefix: '/diag' })
  t.equal((await app.inject({ url: '/diag/metrics' })).statusCode, 200)
  t.equal((await app.inject({ url: '/diag/memory' })).statusCode, 401)
})

t.test('invalid metrics options fail registration', async (t) => {
  const Fastify = (await import('fastify')).default
  const { memoryDiagnostics } = await import('../../plugin/index.js')
  for (const [metrics, message] of [
    [{}, /`metrics.registry` must be a prom-client Registry/],
    [{ registry: new Registry(), route: 'yes' }, /`metrics.route` must be a boolean/]
  ] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, metrics } as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message })
  }
})

t.test('snapshots taken and refused are counted by reason', async (t) => {
  const registry = new Registry()
  const dir = join(t.testdir(), 'snapshots')
  const { app } = await build(t, {
    metrics: { registry, route: true },
    snapshot: { dir },
    rateLimit: { takeSnapshot: { max: 2, timeWindow: 600_000 } }
  }, { prefix: '/diag' })
  const take = async () => (await app.inject({ method: 'POST', url: '/diag/heap-snapshot', headers: AUTH })).statusCode
  t.equal(await take(), 201)
  t.equal(await take(), 409, 'in the cool-down after the snapshot')
  await snapshotsIdle(app, '/diag')
  t.equal(await take(), 201, 'the 409 spent none of the 2 credits')
  await snapshotsIdle(app, '/diag')
  t.equal(await take(), 429)

  const { app: capped } = await build(t, { metrics: { registry: new Registry(), route: true }, snapshot: { dir: join(t.testdir(), 'snapshots'), maxHeapUsedBytes: 1024 } }, { prefix: '/diag' })
  t.equal((await capped.inject({ method: 'POST', url: '/diag/heap-snapshot', headers: AUTH })).statusCode, 503)
  const cappedFamilies = parsePrometheusText((await capped.inject({ url: '/diag/metrics', headers: AUTH })).body)
  t.same(cappedFamilies.get('memdiag_snapshots_refused_total')!.samples.find((s) => s.labels.reason === 'headroom')?.value, 1)

  const families = parsePrometheusText((await app.inject({ url: '/diag/metrics', headers: AUTH })).body)
  t.same(families.get('memdiag_snapshots_taken_total')!.samples.map((s) => s.value), [2])
  const refused = Object.fromEntries(families.get('memdiag_snapshots_refused_total')!.samples.map((s) => [s.labels.reason, s.value]))
  t.same(refused, { headroom: 0, in_progress: 1, rate_limited: 1 })
})

t.test('a registry that already holds the metrics fails registration and leaves nothing running', async (t) => {
  const registry = new Registry()
  await build(t, { metrics: { registry } }, { prefix: '/diag' })
  const Fastify = (await import('fastify')).default
  const { memoryDiagnostics } = await import('../../plugin/index.js')
  const second = Fastify()
  const fdsBefore = readdirSync('/proc/self/fd').length
  second.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, metrics: { registry }, snapshot: { dir: tempDir(t) } })
  await t.rejects(async () => { await second.ready() }, /memdiag_heap_used_bytes has already been registered/)
  t.ok(readdirSync('/proc/self/fd').length <= fdsBefore, 'the cgroup descriptors opened by the failed registration are closed, without waiting for close()')
  await second.close().catch(() => {})
})

t.test('closing the app removes the plugin\'s metrics: the registry keeps working and takes a new instance', async (t) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const Fastify = (await import('fastify')).default
  const { memoryDiagnostics } = await import('../../plugin/index.js')
  const first = Fastify()
  await first.register(memoryDiagnostics, { auth: { tokens: ['test-token-0123456789abcdef'] }, metrics: { registry } })
  await first.ready()
  t.match(await registry.metrics(), /memdiag_heap_used_bytes/)
  await first.close()
  const after = await registry.metrics()
  t.notMatch(after, /memdiag_/, 'no memdiag_* metric left after close')
  t.match(after, /nodejs_heap_size_used_bytes/, 'the application\'s own metrics are still there')

  const second = (await build(t, { rateLimit: {}, metrics: { registry, route: true } }, { prefix: '/diag' })).app
  const res = await second.inject({ url: '/diag/metrics', headers: AUTH })
  t.equal(res.statusCode, 200, 'registering again on the same registry works')
  t.ok(parsePrometheusText(res.body).has('memdiag_heap_used_bytes'))
})

t.test('a registration that fails on one metric removes those it registered before, and no other', async (t) => {
  const registry = new Registry()
  const { Gauge } = await import('prom-client')
  // taken by the application: the plugin's registration fails on it, midway
  const own = new Gauge({ name: 'memdiag_container_memory_limit_bytes', help: 'the application\'s', registers: [registry] })
  const Fastify = (await import('fastify')).default
  const { memoryDiagnostics } = await import('../../plugin/index.js')
  const app = Fastify()
  app.register(memoryDiagnostics, { auth: { tokens: ['test-token-0123456789abcdef'] }, metrics: { registry } })
  await t.rejects(async () => { await app.ready() }, /memdiag_container_memory_limit_bytes has already been registered/)
  await t.resolves(app.close(), 'close() after the failed registration stops nothing twice')
  t.same(registry.getMetricsAsArray().map((metric) => metric.name), ['memdiag_container_memory_limit_bytes'], 'only the application\'s metric is left')
  t.equal(registry.getSingleMetric('memdiag_container_memory_limit_bytes'), own)
  await registry.metrics()
})

t.test('a registration that fails after its metrics (a route already taken) removes them at close', async (t) => {
  const registry = new Registry()
  const Fastify = (await import('fastify')).default
  const { memoryDiagnostics } = await import('../../plugin/index.js')
  const app = Fastify()
  app.get('/diag/memory', async () => 'the application\'s')
  app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: ['test-token-0123456789abcdef'] }, metrics: { registry } })
  await t.rejects(async () => { await app.ready() }, /already declared/)
  await t.resolves(app.close())
  t.same(registry.getMetricsAsArray(), [], 'no memdiag_* metric left')
  await registry.metrics()
})
