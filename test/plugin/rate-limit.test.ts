import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { memoryDiagnostics } from '../../plugin/index.js'
import { AUTH, TOKEN, build, tempDir } from '../helpers/build-app.js'
import { snapshotsIdle } from '../fixtures/snapshot-app.js'

const MIB = 1024 * 1024
const GIB = 1024 * MIB

t.test('the 61st read in a minute gets 429 with Retry-After', async (t) => {
  const { app } = await build(t, { rateLimit: {} }, { prefix: '/diag' })
  for (let i = 1; i <= 60; i++) {
    const res = await app.inject({ url: '/diag/memory', headers: AUTH })
    if (res.statusCode !== 200) t.fail(`request ${i} got ${res.statusCode}`)
  }
  const limited = await app.inject({ url: '/diag/memory', headers: AUTH })
  t.equal(limited.statusCode, 429)
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After in seconds')
  t.match(limited.json(), { statusCode: 429, code: 'FST_MEMDIAG_RATE_LIMITED', error: 'Too Many Requests', message: /^Rate limit exceeded, retry in / })
  t.equal((await app.inject({ url: '/diag/gc-stats', headers: AUTH })).statusCode, 200, 'each route has its own budget')
})

t.test('failed authentications spend their own budget, never the route\'s', async (t) => {
  const { app } = await build(t, { rateLimit: { memory: { max: 3, timeWindow: 60_000 }, failedAuth: { max: 2, timeWindow: 60_000 } } }, { prefix: '/diag' })
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ url: '/diag/memory', headers: { authorization: `Bearer guess-${i}` } })).statusCode, 401)
  const limited = await app.inject({ url: '/diag/memory' })
  t.equal(limited.statusCode, 429, 'the third failure from this IP is refused')
  t.match(limited.json(), { statusCode: 429, code: 'FST_MEMDIAG_RATE_LIMITED', error: 'Too Many Requests' })
  t.ok(Number(limited.headers['retry-after']) > 0, 'with Retry-After')
  t.notOk(limited.headers['www-authenticate'], 'and no invitation to retry credentials')
  for (let i = 1; i <= 3; i++) {
    const res = await app.inject({ url: '/diag/memory', headers: AUTH })
    t.equal(res.statusCode, 200, `the operator's request ${i} passes`)
    t.equal(res.headers['x-ratelimit-remaining'], String(3 - i), 'and only the operator spends the route\'s budget')
  }
  t.equal((await app.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 429, 'the route\'s own budget still holds')
})

t.test('rateLimit.failedAuth: false keeps answering 401', async (t) => {
  const { app } = await build(t, { rateLimit: { failedAuth: false } }, { prefix: '/diag' })
  for (let i = 0; i < 70; i++) {
    const res = await app.inject({ url: '/diag/memory', headers: { authorization: `Bearer guess-${i}` } })
    if (res.statusCode !== 401) t.fail(`failure ${i} got ${res.statusCode}`)
  }
  t.equal((await app.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 200)
})

t.test('over real HTTP, 100 failed authentications from one IP leave the operator\'s /memory and snapshot budgets intact', async (t) => {
  const { app } = await build(t, { rateLimit: {}, snapshot: { dir: join(t.testdir(), 'snapshots') } }, { prefix: '/diag' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const strangers = { 401: 0, 429: 0 }
  for (let i = 0; i < 100; i++) {
    const method = i % 2 === 0 ? 'POST' : 'GET'
    const url = i % 2 === 0 ? '/diag/heap-snapshot' : '/diag/memory'
    const headers: Record<string, string> = i % 3 === 0 ? {} : { authorization: `Bearer stranger-guess-${i}` }
    const res = await fetch(base + url, { method, headers })
    await res.arrayBuffer()
    if (res.status === 401 || res.status === 429) strangers[res.status]++
    else t.fail(`stranger request ${i} got ${res.status}`)
  }
  t.same(strangers, { 401: 60, 429: 40 }, 'the strangers were told to back off after 60 failures')

  const memory = await fetch(`${base}/diag/memory`, { headers: AUTH })
  await memory.arrayBuffer()
  t.equal(memory.status, 200)
  t.equal(memory.headers.get('x-ratelimit-remaining'), '59', '/memory: the operator\'s first request of the window')
  const snapshot = await fetch(`${base}/diag/heap-snapshot`, { method: 'POST', headers: AUTH })
  await snapshot.arrayBuffer()
  t.equal(snapshot.status, 201, 'the operator takes a snapshot')
  t.equal(snapshot.headers.get('x-ratelimit-remaining'), '1', 'snapshot budget: 2 per 10 minutes, this is the first')
})

t.test('a snapshot refused for lack of memory (503) spends no credit of the snapshot budget', async (t) => {
  // a cgroup v1 memory hierarchy whose usage the test sets: the probe re-reads it at each request
  const dir = t.testdir({ proc: '4:memory:/web\n', cgroup: { memory: { web: { 'memory.limit_in_bytes': `${64 * GIB}\n`, 'memory.usage_in_bytes': '' } } } })
  const usage = join(dir, 'cgroup/memory/web/memory.usage_in_bytes')
  const setUsage = (bytes: number) => writeFileSync(usage, `${bytes}\n`)
  setUsage(64 * GIB - MIB)
  const { app } = await build(t, {
    rateLimit: { takeSnapshot: { max: 1, timeWindow: 600_000 } },
    snapshot: { dir: join(dir, 'snapshots') },
    cgroup: { root: join(dir, 'cgroup'), procSelfCgroup: join(dir, 'proc') }
  }, { prefix: '/diag' })
  const take = () => app.inject({ method: 'POST', url: '/diag/heap-snapshot', headers: AUTH })
  for (let i = 0; i < 3; i++) {
    const refused = await take()
    t.equal(refused.statusCode, 503, `refusal ${i + 1}: 1 MiB left in the container`)
    t.equal(refused.json().code, 'FST_MEMDIAG_INSUFFICIENT_HEADROOM')
    t.equal(refused.headers['retry-after'], '60')
    t.notOk(refused.headers['x-ratelimit-remaining'], 'answered before the rate limit')
  }
  setUsage(GIB)
  const taken = await take()
  t.equal(taken.statusCode, 201, 'memory freed up: the single credit is still there')
  t.equal(taken.headers['x-ratelimit-remaining'], '0')
  await snapshotsIdle(app, '/diag')
  t.equal((await take()).statusCode, 429, 'and it was the only one')
})

t.test('limits are configurable per route, and rateLimit: false turns them off', async (t) => {
  const { app: custom } = await build(t, { rateLimit: { gcStats: { max: 1, timeWindow: '1 minute' }, memory: false } }, { prefix: '/diag' })
  t.equal((await custom.inject({ url: '/diag/gc-stats', headers: AUTH })).statusCode, 200)
  t.equal((await custom.inject({ url: '/diag/gc-stats', headers: AUTH })).statusCode, 429)
  for (let i = 0; i < 70; i++) {
    const res = await custom.inject({ url: '/diag/memory', headers: AUTH })
    if (res.statusCode !== 200) t.fail(`memory request ${i} got ${res.statusCode}`)
  }

  const { app: off } = await build(t, { rateLimit: false }, { prefix: '/diag' })
  for (let i = 0; i < 70; i++) {
    const res = await off.inject({ url: '/diag/gc-stats', headers: AUTH })
    if (res.statusCode !== 200) t.fail(`request ${i} got ${res.statusCode}`)
  }
  t.notOk(off.hasDecorator('rateLimit'), '@fastify/rate-limit is not even registered')
  t.pass('no limit with rateLimit: false')
})

t.test('uses the application\'s @fastify/rate-limit when it has one', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyRateLimit, { global: false })
  await app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: [TOKEN] }, rateLimit: { memory: { max: 1, timeWindow: 60_000 } }, snapshot: { dir: tempDir(t) } })
  t.equal((await app.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 200)
  t.equal((await app.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 429)
})

t.test('invalid rate limit options fail registration', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['often', /`rateLimit` must be an object or false/],
    [{ memory: 5 }, /`rateLimit.memory` must be \{ max, timeWindow \} or false/],
    [{ memory: { max: 0, timeWindow: 1000 } }, /`rateLimit.memory.max` must be a positive integer/],
    [{ gcStats: { max: 5, timeWindow: -1 } }, /`rateLimit.gcStats.timeWindow` must be a positive number/],
    [{ failedAuth: { max: 0, timeWindow: 1000 } }, /`rateLimit.failedAuth.max` must be a positive integer/],
    [{ failedAuth: 'lots' }, /`rateLimit.failedAuth` must be \{ max, timeWindow \} or false/]
  ]
  for (const [rateLimit, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, rateLimit } as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message })
  }
})
