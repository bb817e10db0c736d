import { hasSubscribers } from 'node:diagnostics_channel'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { createRequestCounter, REQUEST_COUNT_MARK_PREFIX, requestCountMarks } from '../../plugin/request-counter.js'
import memoryDiagnostics from '../../plugin/index.js'
import { tempDir, TOKEN } from '../helpers/build-app.js'

const HANDLER_START = 'tracing:fastify.request.handler:start'

interface Teardown { teardown (fn: () => unknown): void }

/** A user's app: routes at the root, in a prefixed plugin, one that throws, one that validates. */
async function userApp (t: Teardown): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/hello', async () => ({ hello: 'world' }))
  app.get('/boom', async () => { throw new Error('boom') })
  app.post('/validated', { schema: { body: { type: 'object', required: ['name'] } } }, async () => ({ ok: true }))
  await app.register(async function tenants (child) {
    child.post('/posts/:tenant', async (request) => ({ tenant: (request.params as { tenant: string }).tenant }))
  }, { prefix: '/v1' })
  return app
}

async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
}

async function send (url: string, method = 'GET', body?: unknown): Promise<number> {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  })
  await res.arrayBuffer()
  return res.status
}

t.test('counts the handlers called per route over real HTTP, in every encapsulation context, and not another app\'s', async (t) => {
  const app = await userApp(t)
  const counter = createRequestCounter(app)
  t.teardown(() => counter.stop())
  const url = await listen(app)
  const other = Fastify()
  t.teardown(() => other.close())
  other.get('/hello', async () => 'other app')
  const otherUrl = await listen(other)

  for (let i = 0; i < 3; i++) t.equal(await send(`${url}/hello`), 200)
  t.equal(await send(`${url}/v1/posts/acme`, 'POST', {}), 200)
  t.equal(await send(`${url}/v1/posts/globex`, 'POST', {}), 200)
  t.equal(await send(`${url}/boom`), 500, 'a handler that rejects')
  t.equal(await send(`${url}/validated`, 'POST', {}), 400, 'refused by validation, before the handler')
  t.equal(await send(`${url}/validated`, 'POST', { name: 'x' }), 200)
  t.equal(await send(`${url}/nowhere`), 404)
  t.equal(await send(`${otherUrl}/hello`), 200, 'another app in the same process')

  t.same(counter.counts(), {
    'GET /hello': 3,
    'POST /v1/posts/:tenant': 2,
    'GET /boom': 1,
    'POST /validated': 1
  }, 'route patterns with their prefix; errors in the handler counted; 404s and refusals before the handler not')
})

t.test('mark() replaces the marks held for the next snapshot and gives the counts since the previous mark', async (t) => {
  const app = await userApp(t)
  const counter = createRequestCounter(app)
  t.teardown(() => counter.stop())
  const url = await listen(app)
  await send(`${url}/hello`)
  await send(`${url}/hello`)
  const first = counter.mark()
  t.same(first.counts, { 'GET /hello': 2 })
  t.same(first.sincePrevious, { 'GET /hello': 2 }, 'the first mark: since the start')
  t.same(requestCountMarks(), [
    `${REQUEST_COUNT_MARK_PREFIX}${JSON.stringify({ v: 1, pid: process.pid, at: first.at, route: 'GET /hello', count: 2 })}`,
    `${REQUEST_COUNT_MARK_PREFIX}${JSON.stringify({ v: 1, pid: process.pid, at: first.at, routes: 1 })}`
  ])

  await send(`${url}/hello`)
  await send(`${url}/v1/posts/a`, 'POST', {})
  const second = counter.mark()
  t.same(second.counts, { 'GET /hello': 3, 'POST /v1/posts/:tenant': 1 }, 'cumulative')
  t.same(second.sincePrevious, { 'GET /hello': 1, 'POST /v1/posts/:tenant': 1 })
  const marks = requestCountMarks().map((mark) => JSON.parse(mark.slice(REQUEST_COUNT_MARK_PREFIX.length)) as Record<string, unknown>)
  t.same(marks, [
    { v: 1, pid: process.pid, at: second.at, route: 'GET /hello', count: 3 },
    { v: 1, pid: process.pid, at: second.at, route: 'POST /v1/posts/:tenant', count: 1 },
    { v: 1, pid: process.pid, at: second.at, routes: 2 }
  ], 'one per route and one with their number, all with the same `at`')
  t.ok(requestCountMarks().every((mark) => mark.startsWith(REQUEST_COUNT_MARK_PREFIX)))
})

t.test('a mark before any request still says how many routes it has: none', async (t) => {
  const app = await userApp(t)
  const counter = createRequestCounter(app)
  t.teardown(() => counter.stop())
  const { at, counts } = counter.mark()
  t.same(counts, {})
  t.same(requestCountMarks(), [`${REQUEST_COUNT_MARK_PREFIX}${JSON.stringify({ v: 1, pid: process.pid, at, routes: 0 })}`])
})

t.test('a route too long for a snapshot string is cut so that its mark stays whole JSON within 1024 characters', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const long = `/${'segment/'.repeat(250)}end`
  app.get(long, async () => 'ok')
  const counter = createRequestCounter(app)
  t.teardown(() => counter.stop())
  await app.inject(long)
  counter.mark()
  const [mark] = requestCountMarks()
  t.ok(mark !== undefined && mark.length <= 1024, `${String(mark?.length)} characters`)
  const parsed = JSON.parse(mark!.slice(REQUEST_COUNT_MARK_PREFIX.length)) as { route: string, count: number }
  t.ok(parsed.route.startsWith(`GET /${'segment/'.repeat(50)}`) && parsed.route.endsWith('…'))
  t.equal(parsed.count, 1)
})

t.test('stop() unsubscribes: nothing counted after it', async (t) => {
  const app = await userApp(t)
  const counter = createRequestCounter(app)
  await app.inject('/hello')
  counter.stop()
  await app.inject('/hello')
  t.same(counter.counts(), { 'GET /hello': 1 })
  t.notOk(hasSubscribers(HANDLER_START), 'no subscriber left')
})

t.test('the plugin counts from its registration and unsubscribes in onClose', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, snapshot: { dir: tempDir(t) } })
  await app.ready()
  t.ok(hasSubscribers(HANDLER_START))
  await app.close()
  t.notOk(hasSubscribers(HANDLER_START), 'onClose unsubscribed')
})
