import t from 'tap'
import { readdirSync } from 'node:fs'
import Fastify from 'fastify'
import { memoryDiagnostics } from '../../../plugin/index.js'
import { TOKEN } from '../../helpers/build-app.js'

const openFds = () => readdirSync('/proc/self/fd').length

t.test('invalid trend options fail registration before anything is opened', async (t) => {
  const cases = [
    [{ intervalMs: 10_000, capacityMs: 5000 }, /`trend.capacityMs` \(5000\) must be at least `trend.intervalMs` \(10000\)/],
    [{ intervalMs: 0 }, /`trend.intervalMs` must be a positive integer/],
    [{ thresholds: { minConfidence: 2 } }, /minConfidence/],
    [{ thresholds: { windowMs: 1000, minSpanMs: 5000 } }, /minSpanMs/],
    [{ thresholds: 'short' }, /`trend.thresholds` must be an object/],
    ['often', /`trend` must be an object/]
  ] as const
  for (const [trend, message] of cases) {
    const before = openFds()
    for (let i = 0; i < 20; i++) {
      const app = Fastify()
      app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, trend } as never)
      await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message }, JSON.stringify(trend))
      await app.close()
    }
    t.equal(openFds(), before, `20 failed registrations with ${JSON.stringify(trend)} leave no descriptor open`)
  }
})

t.test('the trend options given are not mutated', async (t) => {
  const trend = { intervalMs: 1000, thresholds: { windowMs: 60_000 } }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, trend })
  await app.ready()
  t.same(trend, { intervalMs: 1000, thresholds: { windowMs: 60_000 } })
})
