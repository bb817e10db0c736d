// The leak gate inside a tap test file, as a user runs it: this process, its coverage on, tap's
// own objects in the heap, several subtests one after the other (jest's --detectLeaks flagged
// every suite because the runner's own retention looked like the suite's). Real snapshots.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import { assertNoLeaks, LeakGateError, measureLeaks } from '../../testing/index.js'

class CartLine {
  readonly sku: string
  readonly history: number[]
  constructor (readonly n: number) {
    this.sku = `sku-${n}`
    this.history = Array.from({ length: 16 }, (_, i) => n + i)
  }
}
const abandonedCarts: CartLine[] = []
let sequence = 0

async function shop (): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify()
  app.post('/cart', async () => {
    abandonedCarts.push(new CartLine(sequence++)) // the leak
    return { ok: true }
  })
  app.get('/price', async () => {
    const lines = Array.from({ length: 20 }, () => new CartLine(sequence++))
    await new Promise((resolve) => setImmediate(resolve))
    return { total: lines.reduce((sum, line) => sum + line.n, 0) }
  })
  app.get('/hello', async (request) => {
    console.log(`hello from ${request.id}`)
    return { hello: 'world' }
  })
  await app.ready()
  return app
}

t.test('bad options are a TypeError before anything runs', async (t) => {
  let called = 0
  const call = (): void => { called++ }
  await t.rejects(measureLeaks({ call }, { calls: 0 }), { name: 'TypeError', message: '`calls` must be an integer >= 1, got 0' })
  await t.rejects(measureLeaks({ call }, { warmUp: 1.5 }), { name: 'TypeError', message: '`warmUp` must be an integer >= 0, got 1.5' })
  await t.rejects(measureLeaks({ call }, { threshold: -1 }), { name: 'TypeError', message: /`threshold` must be a number of objects per call >= 0, got -1/ })
  await t.rejects(measureLeaks({ nothing: true } as never), { name: 'TypeError', message: /the target must be/ })
  t.equal(called, 0)
})

t.test('a route that keeps an object per request fails the gate with the report', async (t) => {
  const app = await shop()
  t.teardown(() => app.close())
  const error = await assertNoLeaks({ app, request: { method: 'POST', url: '/cart' } }).then(() => null, (err: unknown) => err)
  t.ok(error instanceof LeakGateError, 'rejects with a LeakGateError')
  const { result, message } = error as LeakGateError
  t.equal(result.label, 'POST /cart')
  t.equal(result.leaks[0]?.className, 'CartLine', 'names the class')
  t.equal(result.leaks[0]?.objectsPerCall, 1, 'one per call in the interval that kept fewest')
  t.match(message, /^POST \/cart leaks: 1 class grows by more than 0\.05 objects per call \(200 calls between 3 heap snapshots, after 200 warm-up calls\)\n- CartLine: 1\.00 per call, \+200\/\+200 per interval, held by Array/)
  t.match(message, /\nLeak candidates: /, 'the find-leaks report follows')
  t.equal(result.files.length, 3, 'the snapshots are kept for DevTools')
  t.match(message, new RegExp(`Snapshots kept: ${result.files.join(' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  rmSync(dirname(result.files[0]!), { recursive: true, force: true })
})

t.test('routes that keep nothing pass, each in its own subtest after the leaking one', async (t) => {
  const app = await shop()
  t.teardown(() => app.close())
  for (const url of ['/price', '/hello']) {
    t.test(`GET ${url}`, async (t) => {
      const result = await assertNoLeaks({ app, request: { method: 'GET', url } })
      t.same(result.leaks, [], `nothing above the threshold: ${result.findings.slice(0, 2).map((f) => `${f.className} ${f.objectsPerCall}/call`).join(', ') || 'no candidate'}`)
      t.same(result.files, [], 'the temporary snapshots are gone')
    })
  }
})

t.test('a function with promises and timers passes; the directory given is kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-gate-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const result = await assertNoLeaks({
    call: async function settleSome () {
      await Promise.all([1, 2, 3].map((n) => new Promise((resolve) => setTimeout(resolve, 0, n))))
    }
  }, { calls: 100, warmUp: 20, dir })
  t.equal(result.label, 'settleSome()')
  t.equal(readdirSync(dir).length, 3)
})
