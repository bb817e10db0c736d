import t from 'tap'
import Fastify from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { memoryDiagnostics } from '../../plugin/index.js'
import { AUTH, TOKEN, build, tempDir } from '../helpers/build-app.js'

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

t.test('requests without credentials count too (slows token guessing)', async (t) => {
  const { app } = await build(t, { rateLimit: { memory: { max: 3, timeWindow: 60_000 } } }, { prefix: '/diag' })
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/diag/memory', headers: { authorization: `Bearer guess-${i}` } })).statusCode, 401)
  t.equal((await app.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 429)
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
    [{ gcStats: { max: 5, timeWindow: -1 } }, /`rateLimit.gcStats.timeWindow` must be a positive number/]
  ]
  for (const [rateLimit, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, rateLimit } as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message })
  }
})
