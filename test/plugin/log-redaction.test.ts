import t from 'tap'
import Fastify from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
import { join } from 'node:path'
import { AUTH, TOKEN } from '../helpers/build-app.js'

t.test('no token ever reaches a log line, even with a serializer that logs headers', async (t) => {
  const lines: string[] = []
  const stream = { write: (line: string) => { lines.push(line) } }
  const app = Fastify({
    logger: {
      level: 'trace',
      stream,
      // An application serializer that logs every header, as some teams configure.
      serializers: { req: (req: { method: string, url: string, headers: Record<string, unknown> }) => ({ method: req.method, url: req.url, headers: req.headers }) }
    }
  })
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: [TOKEN] } })
  app.get('/app-route', async () => ({ ok: true }))

  await app.inject({ url: '/app-route', headers: { authorization: 'Bearer app-secret-value' } })
  t.ok(lines.some((line) => line.includes('app-secret-value')), 'the capture does see headers logged on the app\'s own routes')

  lines.length = 0
  await app.inject({ url: '/diag/memory', headers: AUTH })
  await app.inject({ url: '/diag/gc-stats', headers: AUTH })
  await app.inject({ url: '/diag/memory', headers: { authorization: `Bearer ${TOKEN}-almost` } })
  await app.inject({ url: '/diag/memory?nope=1', headers: AUTH })
  t.ok(lines.length >= 8, `request logs were written (${lines.length} lines)`)
  t.ok(lines.some((line) => line.includes('/diag/memory')), 'the plugin\'s requests are logged')
  for (const line of lines) {
    t.notMatch(line, TOKEN, 'no token in the log line')
    t.notMatch(line, /authorization/i, 'no authorization header in the log line')
  }
})

t.test('a token sent in the query string never reaches the log, on any route of the plugin', async (t) => {
  const lines: string[] = []
  // A pino destination stream: each line as pino writes it.
  const stream = { write: (line: string) => { lines.push(line) } }
  // An application serializer that logs every header, as some teams configure.
  const serializers = { req: (req: { method: string, url: string, headers: Record<string, unknown> }) => ({ method: req.method, url: req.url, headers: req.headers }) }
  const app = Fastify({ logger: { level: 'trace', stream, serializers } })
  t.teardown(() => app.close())
  const { Registry } = await import('prom-client')
  await app.register(memoryDiagnostics, {
    prefix: '/diag',
    auth: { tokens: [TOKEN] },
    metrics: { registry: new Registry(), route: true },
    // refused before it is taken: the request is logged all the same
    snapshot: { dir: join(t.testdir(), 'snapshots'), maxHeapUsedBytes: 1024 }
  })
  const secret = 'query-secret-0123456789abcdef'
  const routes: Array<[string, string]> = [
    ['GET', '/diag/memory'],
    ['GET', '/diag/gc-stats'],
    ['GET', '/diag/metrics'],
    ['POST', '/diag/heap-snapshot'],
    ['GET', '/diag/heap-snapshot/heap-1-2'],
    ['DELETE', '/diag/heap-snapshot/heap-1-2'],
    ['GET', '/diag/no-such-route'],
    ['POST', '/diag/memory'],
    ['GET', '/diag']
  ]
  for (const [method, url] of routes) {
    for (const query of [`access_token=${secret}`, `download=true&token=${secret}`, `${secret}`]) {
      for (const headers of [{}, AUTH, { authorization: `Bearer ${secret}` }, { cookie: `session=${secret}` }]) {
        lines.length = 0
        const res = await app.inject({ method: method as 'GET', url: `${url}?${query}`, headers })
        t.ok(lines.some((line) => line.includes(`"url":"${url}"`)), `${method} ${url} (${res.statusCode}) logged its path`)
        const leaked = lines.filter((line) => line.includes(secret) || line.includes(TOKEN))
        t.same(leaked, [], `${method} ${url}?… with ${Object.keys(headers).length > 0 ? 'a header' : 'no header'}: no credential in the log`)
      }
    }
  }
})
