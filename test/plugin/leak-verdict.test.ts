import t from 'tap'
import type { Test } from 'tap'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { setFlagsFromString } from 'node:v8'
import { memoryDiagnostics } from '../../plugin/index.js'
import { AUTH, TOKEN } from '../helpers/build-app.js'

// V8 runs a major GC when the old generation has grown by a factor since the last one (up to 4x
// on a young heap): in a test lasting seconds that is one or two major GCs, too few post-GC
// samples. Capping growth at 10% gives the cadence of a long-running service near its steady size.
setFlagsFromString('--heap-growing-percent=10')

// A short window so that the verdict can form within a test: 100 ms samples, 10 s window.
const trend = {
  intervalMs: 100,
  thresholds: { windowMs: 10_000, minSpanMs: 7000, minPostGcSamples: 4, minRssSamples: 50 }
}

// Like a real service, each request keeps some objects for a while (a recent-requests buffer):
// they are promoted and then freed, which is what makes V8 run major GCs regularly.
function handlerKeeping (retainedPerRequest: number) {
  const recent: unknown[][] = []
  const leaked: unknown[] = []
  return () => {
    const batch: unknown[] = []
    for (let i = 0; i < 40; i++) batch.push({ i, at: Date.now(), tags: ['a', 'b'] })
    recent.push(batch)
    if (recent.length > 3000) recent.splice(0, 1000)
    for (let i = 0; i < retainedPerRequest; i++) leaked.push({ i, at: Date.now() })
    return { recent: recent.length, leaked: leaked.length }
  }
}

async function serve (t: Test, handler: () => unknown) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: [TOKEN] }, rateLimit: false, trend })
  app.post('/work', async () => handler())
  return await app.listen({ port: 0, host: '127.0.0.1' })
}

/** Loads the endpoint for at most `seconds`, polling the verdict; returns every verdict seen. */
async function loadAndWatch (url: string, seconds: number, stopAt: string | null): Promise<string[]> {
  const seen: string[] = []
  let done!: () => void
  const finished = new Promise<void>((resolve) => { done = resolve })
  const load = autocannon({ url: `${url}/work`, method: 'POST', connections: 4, duration: seconds }, () => done())
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const memory = await (await fetch(`${url}/diag/memory`, { headers: AUTH })).json() as { trend: { verdict: string } }
    seen.push(memory.trend.verdict)
    if (process.env.DEBUG_TREND) console.error(JSON.stringify(memory.trend))
    if (memory.trend.verdict === stopAt) break
  }
  load.stop()
  await finished
  return seen
}

t.test('an endpoint that retains memory per request turns the verdict to growing-heap', async (t) => {
  // about 1 kB kept forever per request: the classic JS leak
  const url = await serve(t, handlerKeeping(20))
  const seen = await loadAndWatch(url, 40, 'growing-heap')
  t.equal(seen.at(-1), 'growing-heap', `verdicts seen: ${[...new Set(seen)].join(', ')}`)
  t.equal(seen[0], 'insufficient-data', 'no verdict before the window has data')
})

t.test('the same load on an endpoint that retains nothing never does', async (t) => {
  const url = await serve(t, handlerKeeping(0))
  const seen = await loadAndWatch(url, 20, null)
  t.notOk(seen.includes('growing-heap'), `verdicts seen: ${[...new Set(seen)].join(', ')}`)
  t.ok(seen.length >= 20, 'the verdict was watched all along')
})

t.test('invalid trend options fail registration', async (t) => {
  for (const [trendOption, message] of [
    [{ intervalMs: 0 }, /`trend.intervalMs` must be a positive integer/],
    [{ thresholds: { minConfidence: 2 } }, /minConfidence/],
    ['often', /`trend` must be an object/]
  ] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, trend: trendOption } as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message })
  }
})
