import t from 'tap'
import { request as httpRequest } from 'node:http'
import Fastify from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
import { AUTH, TOKEN, build } from '../helpers/build-app.js'

// Over a real socket: a path such as `%zz` or a 150-character id is then parsed by Node and
// routed by Fastify's router exactly as in production.
function send (base: string, method: string, path: string): Promise<{ statusCode: number, body: unknown, allow: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers: AUTH }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve({ statusCode: res.statusCode!, body: text === '' ? null : JSON.parse(text), allow: res.headers.allow }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('what the router answers under the prefix has the plugin\'s error shape', async (t) => {
  const app = (await build(t, { rateLimit: {} }, { prefix: '/diag' })).app
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const cases: Array<[string, string, number, string]> = [
    ['GET', '/diag/no-such-route', 404, 'FST_MEMDIAG_ROUTE_NOT_FOUND'],
    ['GET', '/diag', 404, 'FST_MEMDIAG_ROUTE_NOT_FOUND'],
    ['GET', '/diag/', 404, 'FST_MEMDIAG_ROUTE_NOT_FOUND'],
    ['GET', '/diag/memory/', 404, 'FST_MEMDIAG_ROUTE_NOT_FOUND'],
    ['GET', `/diag/heap-snapshot/${'a'.repeat(150)}`, 404, 'FST_MEMDIAG_ROUTE_NOT_FOUND'],
    ['DELETE', `/diag/heap-snapshot/${'a'.repeat(101)}`, 404, 'FST_MEMDIAG_ROUTE_NOT_FOUND'],
    ['GET', '/diag/heap-snapshot/not-an-id', 400, 'FST_MEMDIAG_INVALID_REQUEST'],
    // answered by Fastify's router before any route: its own code, in the same shape
    ['GET', '/diag/%zz', 400, 'FST_ERR_BAD_URL'],
    ['GET', '/diag/heap-snapshot/%zz', 400, 'FST_ERR_BAD_URL']
  ]
  for (const [method, path, statusCode, code] of cases) {
    const res = await send(base, method, path)
    t.equal(res.statusCode, statusCode, `${method} ${path.slice(0, 40)}`)
    if (method === 'HEAD') continue
    t.match(res.body, { statusCode, code, error: statusCode === 404 ? 'Not Found' : 'Bad Request', message: String }, `${method} ${path.slice(0, 40)}: body`)
    t.equal(res.allow, undefined)
    t.same(Object.keys(res.body as object).sort(), ['code', 'error', 'message', 'statusCode'])
  }
  const unknown = await send(base, 'GET', '/diag/nope?access_token=secret-in-query')
  t.same(unknown.body, { statusCode: 404, code: 'FST_MEMDIAG_ROUTE_NOT_FOUND', error: 'Not Found', message: 'Route GET:/diag/nope not found' }, 'the query is not echoed')
})

t.test('a path of the plugin asked with another method: 405 with Allow, in the plugin\'s shape', async (t) => {
  const app = (await build(t, { rateLimit: {} }, { prefix: '/diag' })).app
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const cases: Array<[string, string, string]> = [
    ['POST', '/diag/memory', 'GET, HEAD'],
    ['DELETE', '/diag/gc-stats', 'GET, HEAD'],
    ['PUT', '/diag/heap-snapshot', 'POST'],
    ['GET', '/diag/heap-snapshot', 'POST'],
    ['PATCH', '/diag/heap-snapshot/heap-1-2', 'GET, DELETE'],
    ['HEAD', '/diag/heap-snapshot/heap-1-2', 'GET, DELETE']
  ]
  for (const [method, path, allow] of cases) {
    const res = await send(base, method, `${path}?access_token=secret-in-query`)
    t.equal(res.statusCode, 405, `${method} ${path}`)
    t.equal(res.allow, allow, `${method} ${path}: Allow`)
    if (method === 'HEAD') continue
    t.same(res.body, { statusCode: 405, code: 'FST_MEMDIAG_METHOD_NOT_ALLOWED', error: 'Method Not Allowed', message: `Method ${method} not allowed on ${path}` })
  }
})

t.test('the application\'s routes and 404s outside the prefix are untouched', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/diagnostics-of-the-app', async () => ({ app: true }))
  app.get('/item/:id', async () => ({ item: true }))
  await app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: [TOKEN] } })
  await app.register(async (child) => {
    child.get('/diag/extra', async () => ({ extra: true }))
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  t.same((await send(base, 'GET', '/diagnostics-of-the-app')).body, { app: true })
  t.same((await send(base, 'GET', '/diag/extra')).body, { extra: true }, 'an application route under the same prefix still wins')
  const outside = await send(base, 'GET', '/nope')
  t.same(outside.body, { message: 'Route GET:/nope not found', error: 'Not Found', statusCode: 404 }, 'Fastify\'s own 404 outside the prefix')
  const long = await send(base, 'GET', `/item/${'a'.repeat(150)}`)
  t.equal(long.statusCode, 414, 'Fastify\'s own 414 outside the prefix')
})

t.test('without a prefix the plugin adds no catch-all: the application keeps its 404s', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] } })
  app.setNotFoundHandler((_request, reply) => { reply.code(404).send({ mine: true }) })
  t.equal((await app.inject({ url: '/memory', headers: AUTH })).statusCode, 200)
  t.same((await app.inject({ url: '/nope' })).json(), { mine: true })
})
