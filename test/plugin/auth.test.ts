import t from 'tap'
import Fastify from 'fastify'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
import type { MemoryDiagnosticsOptions } from '../../plugin/index.js'
import { AUTH, TOKEN, build, tempDir } from '../helpers/build-app.js'

async function register (options: unknown) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, options as MemoryDiagnosticsOptions)
  return app.ready()
}

t.test('registration fails closed', async (t) => {
  await t.rejects(register(undefined), { code: 'FST_MEMDIAG_INVALID_OPTION', message: /`auth` option is required/ })
  await t.rejects(register({}), { message: /`auth` option is required/ })
  await t.rejects(register({ auth: {} }), { message: /at least one of `auth.tokens` or `auth.strategies`/ })
  await t.rejects(register({ auth: { tokens: [] } }), { message: /at least one of/ })
  await t.rejects(register({ auth: { tokens: [undefined] } }), { message: /at least 16 characters \(is an environment variable unset\?\)/ })
  await t.rejects(register({ auth: { tokens: 'short' } }), { message: /at least 16 characters/ })
  await t.rejects(register({ auth: { strategies: ['nope'] } }), { message: /`auth.strategies` must be an array of functions/ })
  await t.rejects(register({ auth: { tokens: TOKEN, relation: 'xor' } }), { message: /`auth.relation` must be 'or' or 'and'/ })
  await t.rejects(register({ auth: 'yes' }), { message: /`auth` option is required/ })
})

t.test('does not mutate the options', async (t) => {
  const options = { auth: { tokens: [TOKEN] }, rateLimit: { memory: { max: 5, timeWindow: 1000 } }, snapshot: { dir: tempDir(t) } }
  const copy = structuredClone(options)
  await register(options)
  t.same(options, copy)
})

t.test('a valid token gets 200; missing, wrong and almost-right tokens get 401', async (t) => {
  const { app } = await build(t, { auth: { tokens: ['another-token-for-rotation', TOKEN] } }, { prefix: '/diag' })
  t.equal((await app.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 200)
  t.equal((await app.inject({ url: '/diag/gc-stats', headers: { authorization: 'Bearer another-token-for-rotation' } })).statusCode, 200, 'a second token works (rotation)')
  t.equal((await app.inject({ url: '/diag/memory', headers: { authorization: `bearer   ${TOKEN}` } })).statusCode, 200, 'scheme is case-insensitive')

  const missing = await app.inject({ url: '/diag/memory' })
  t.equal(missing.statusCode, 401)
  t.match(missing.headers['www-authenticate'], /^Bearer realm=/)
  t.same(missing.json(), {
    statusCode: 401,
    code: 'FST_MEMDIAG_MISSING_CREDENTIALS',
    error: 'Unauthorized',
    message: 'Authentication required: send "Authorization: Bearer <token>"'
  })

  const wrongs = ['Bearer wrong', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN} extra`]
  const bodies = new Set<string>()
  for (const authorization of wrongs) {
    const res = await app.inject({ url: '/diag/memory', headers: { authorization } })
    t.equal(res.statusCode, 401, authorization)
    t.match(res.headers['www-authenticate'], /error="invalid_token"/)
    bodies.add(res.body)
  }
  t.equal(bodies.size, 1, 'every wrong token gets the same answer: nothing reveals which tokens exist')
  t.notMatch([...bodies][0], TOKEN.slice(0, 8))
})

t.test('auth: false runs open and warns at every start', async (t) => {
  const lines: string[] = []
  const stream = { write: (line: string) => { lines.push(line) } }
  const { app } = await build(t, { auth: false }, { prefix: '/diag', fastify: { logger: { level: 'warn', stream } } })
  t.equal((await app.inject({ url: '/diag/memory' })).statusCode, 200)
  t.equal(lines.length, 1)
  t.match(JSON.parse(lines[0]!), { level: 40, msg: /auth is disabled/ })
})

function allowHeader (name: string, value: string) {
  return async (request: FastifyRequest) => {
    if (request.headers[name] !== value) {
      throw Object.assign(new Error(`${name} refused`), { statusCode: 403 })
    }
  }
}

function callbackStrategy (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) {
  done(request.headers['x-client-cert'] === 'ok' ? undefined : Object.assign(new Error('client certificate required'), { statusCode: 403 }))
}

t.test('user strategies alone, and composed with tokens by or/and', async (t) => {
  const { app: only } = await build(t, { auth: { strategies: [allowHeader('x-ip', '10.0.0.1')] } }, { prefix: '/diag' })
  t.equal((await only.inject({ url: '/diag/memory', headers: { 'x-ip': '10.0.0.1' } })).statusCode, 200)
  const refused = await only.inject({ url: '/diag/memory', headers: { 'x-ip': '10.6.6.6' } })
  t.equal(refused.statusCode, 403, 'a user strategy may answer 403')
  t.match(refused.json(), { code: 'FST_MEMDIAG_FORBIDDEN', message: 'x-ip refused' })

  const { app: either } = await build(t, { auth: { tokens: [TOKEN], strategies: [callbackStrategy], relation: 'or' } }, { prefix: '/diag' })
  t.equal((await either.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 200, 'or: token alone')
  t.equal((await either.inject({ url: '/diag/memory', headers: { 'x-client-cert': 'ok' } })).statusCode, 200, 'or: strategy alone')
  t.equal((await either.inject({ url: '/diag/memory' })).statusCode, 403, 'or: neither')

  const { app: both } = await build(t, { auth: { tokens: [TOKEN], strategies: [callbackStrategy], relation: 'and' } }, { prefix: '/diag' })
  t.equal((await both.inject({ url: '/diag/memory', headers: { ...AUTH, 'x-client-cert': 'ok' } })).statusCode, 200, 'and: both')
  t.equal((await both.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 403, 'and: token without strategy')
  const noToken = await both.inject({ url: '/diag/memory', headers: { 'x-client-cert': 'ok' } })
  t.equal(noToken.statusCode, 401, 'and: strategy without token')
  t.equal(noToken.json().code, 'FST_MEMDIAG_MISSING_CREDENTIALS')
})

t.test('a strategy error without a status code is a 500 that reveals nothing', async (t) => {
  const { app } = await build(t, { auth: { strategies: [async () => { throw new Error('db password is hunter2') }] } }, { prefix: '/diag' })
  const res = await app.inject({ url: '/diag/memory' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), {
    statusCode: 500,
    code: 'FST_MEMDIAG_INTERNAL_ERROR',
    error: 'Internal Server Error',
    message: 'Internal error in fastify-memory-diagnostics; see the server log'
  })
})

t.test('a strategy 401 keeps its message under our code', async (t) => {
  const { app } = await build(t, { auth: { strategies: [async () => { throw Object.assign(new Error('jwt expired'), { statusCode: 401 }) }] } }, { prefix: '/diag' })
  const res = await app.inject({ url: '/diag/memory' })
  t.match(res.json(), { statusCode: 401, code: 'FST_MEMDIAG_INVALID_CREDENTIALS', message: 'jwt expired' })
})

t.test('reuses the application\'s @fastify/auth and keeps its own routes open', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register((await import('@fastify/auth')).default)
  app.get('/public', async () => ({ ok: true }))
  await app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: [TOKEN] }, snapshot: { dir: tempDir(t) } })
  t.equal((await app.inject({ url: '/public' })).statusCode, 200, 'the plugin\'s hooks stay encapsulated')
  t.equal((await app.inject({ url: '/diag/memory' })).statusCode, 401)
  t.equal((await app.inject({ url: '/diag/memory', headers: AUTH })).statusCode, 200)
})

t.test('a token no client could send fails registration, saying which rule, never the token', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`${TOKEN}\n`, /entry 0 can never match an "Authorization: Bearer" header: it ends with a newline \(read from a file\? trim it\)/],
    [`${TOKEN}\r\n`, /ends with a newline/],
    [` ${TOKEN}`, /starts or ends with whitespace/],
    [`${TOKEN}\t`, /starts or ends with whitespace/],
    [`${TOKEN.slice(0, 10)} ${TOKEN.slice(10)}`, /contains whitespace/],
    [`${TOKEN}\u0000`, /contains a control character/],
    [`${TOKEN}\u007f`, /contains a control character/],
    [`${TOKEN}é`, /contains a non-ASCII character/],
    [`${TOKEN}!`, /outside the bearer token set of RFC 6750/],
    [`${TOKEN}=x`, /outside the bearer token set/]
  ]
  for (const [token, message] of cases) {
    const error = await register({ auth: { tokens: ['another-token-for-rotation', token].reverse() } }).then(() => null, (e: Error) => e)
    t.match(error, { code: 'FST_MEMDIAG_INVALID_OPTION', message }, JSON.stringify(token))
    t.notMatch(error?.message ?? '', TOKEN.slice(0, 8), 'the message does not contain the token')
  }
  const second = await register({ auth: { tokens: ['another-token-for-rotation', `${TOKEN}\n`] } }).then(() => null, (e: Error) => e)
  t.match(second, { message: /entry 1 can/ }, 'the message says which entry')
})

t.test('tokens from RFC 6750\'s whole set are accepted and match', async (t) => {
  const token = 'aZ09-._~+/aZ09-._~+/=='
  const app = (await build(t, { rateLimit: {}, auth: { tokens: [token] } }, { prefix: '/diag' })).app
  t.equal((await app.inject({ url: '/diag/memory', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
})
