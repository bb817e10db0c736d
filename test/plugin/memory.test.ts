import t from 'tap'
import { hostname, totalmem } from 'node:os'
import { join } from 'node:path'
import { AUTH, TOKEN, build } from '../helpers/build-app.js'

t.test('GET /memory returns every field with sane values', async (t) => {
  const { app } = await build(t, {}, { prefix: '/diag' })
  const res = await app.inject({ url: '/diag/memory', headers: AUTH })
  t.equal(res.statusCode, 200)
  const body = res.json()
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = body.process
  t.ok(heapUsed > 1e6 && heapUsed <= heapTotal, 'heapUsed within heapTotal')
  t.ok(rss > heapUsed, 'RSS above heapUsed')
  t.ok(external >= arrayBuffers && arrayBuffers >= 0, 'external includes arrayBuffers')
  t.ok(body.heap.heap_size_limit > body.heap.used_heap_size, 'V8 heap statistics')
  t.ok(body.heap.number_of_native_contexts >= 1)
  const spaces = body.heapSpaces.map((space: { space_name: string }) => space.space_name)
  t.ok(spaces.includes('old_space') && spaces.includes('new_space'), 'heap spaces listed')
  t.ok(['cgroup-v1', 'cgroup-v2', 'none'].includes(body.container.source))
  t.equal(body.system.totalBytes, totalmem())
  t.ok(body.system.availableBytes > 0 && body.system.availableBytes <= body.system.totalBytes)
  t.equal(body.rssToHeapRatio, Math.round(rss / heapTotal * 1000) / 1000)
  t.equal(body.pid, process.pid)
  t.equal(body.hostname, hostname())
  t.ok(body.uptimeSeconds > 0 && body.uptimeSeconds <= process.uptime())
  t.ok(Math.abs(Date.parse(body.timestamp) - Date.now()) < 60_000, 'timestamp is now')

  const outside = body.outsideHeap
  t.equal(outside.externalBytes, external, 'outside the heap: external')
  t.equal(outside.arrayBuffersBytes, arrayBuffers)
  t.ok(outside.rssAnonBytes > heapUsed && outside.rssAnonBytes < rss, 'anonymous RSS holds the heap, within RSS (this machine has /proc)')
  t.ok(outside.rssFileBytes > 0 && outside.threads >= 5, 'file-backed RSS, and Node\'s threads (main, V8 workers, libuv)')
  t.equal(outside.unexplainedBytes, outside.rssAnonBytes - heapTotal - external, 'what no counter explains: anonymous RSS minus heapTotal and external')
  t.type(outside.activeResources, 'object')
  t.ok(Object.values(outside.activeResources).every((n) => Number.isInteger(n) && (n as number) > 0), 'active resources counted by type')
  t.type(body.trend.outsideHeap.samples, 'number', 'the trend of what no counter explains')
})

t.test('GET /memory reports the container figures of the cgroup it finds', async (t) => {
  const dir = t.testdir({
    proc: '0::/web\n',
    cgroup: { web: { 'memory.max': '536870912\n', 'memory.current': '104857600\n' } }
  })
  const { app } = await build(t, { cgroup: { root: join(dir, 'cgroup'), procSelfCgroup: join(dir, 'proc') } }, { prefix: '/diag' })
  const body = (await app.inject({ url: '/diag/memory', headers: AUTH })).json()
  t.match(body.container, { source: 'cgroup-v2', limitBytes: 536870912, usageBytes: 104857600, limitFile: join(dir, 'cgroup/web/memory.max') })
})

t.test('unknown query parameters are rejected with 400', async (t) => {
  const { app } = await build(t, {}, { prefix: '/diag' })
  for (const url of ['/diag/memory?verbose=1', '/diag/gc-stats?x=y']) {
    const res = await app.inject({ url, headers: AUTH })
    t.equal(res.statusCode, 400, url)
    t.match(res.json(), { code: 'FST_MEMDIAG_INVALID_REQUEST', message: /^unknown querystring parameter "(verbose|x)"$/ })
  }
})

t.test('invalid cgroup and gc options fail registration', async (t) => {
  const Fastify = (await import('fastify')).default
  const { memoryDiagnostics } = await import('../../plugin/index.js')
  for (const [options, message] of [
    [{ cgroup: { root: '' } }, /`cgroup.root` must be a non-empty string/],
    [{ gc: { windowMs: 0 } }, /`gc.windowMs` must be a positive integer/]
  ] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, ...options } as never)
    await t.rejects(async () => { await app.ready() }, { message })
  }
})
