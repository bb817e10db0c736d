import t from 'tap'
import Fastify from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
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
