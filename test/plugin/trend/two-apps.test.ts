// Two real Fastify apps in child processes under the same moderate HTTP load, each with the
// plugin's trend on a 60 s window sampled every second: one keeps a few MB/min of small objects
// per request, the other fills a bounded cache that then stays full.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { freePort } from '../../../load/free-port.js'
import { uncoveredChildEnv } from '../../helpers/child-env.js'

const SERVICE = fileURLToPath(new URL('../../fixtures/leak-service.ts', import.meta.url))
const TOKEN = 'two-apps-token-0123456789'
const LOAD_SECONDS = 130
// 200 requests per second: ~3.5 MB/min kept by the leaking app (measured with the same service
// and load in test/fixtures/memory-series/service-leak.json).
const RATE = 200

interface TimeToLimit { seconds: number, limit: string, bytesLeft: number, bytesPerMinute: number }
interface Watched { verdicts: Array<{ atS: number, verdict: string, reason: string, timeToLimit: TimeToLimit | null }> }

async function startService (t: Test, env: Record<string, string>): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', SERVICE], {
    env: { ...uncoveredChildEnv(), ...env, PORT: String(port), DIAGNOSTICS_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(`${url}/work`, { method: 'POST', signal: AbortSignal.timeout(1000) })
      return url
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`the ${env.MODE} service did not start`)
}

/** Loads the service for LOAD_SECONDS and reads its verdict every second. */
async function loadAndWatch (url: string): Promise<Watched> {
  const watched: Watched = { verdicts: [] }
  const started = Date.now()
  const loaded = new Promise<void>((resolve) => {
    autocannon({ url: `${url}/work`, method: 'POST', connections: 10, overallRate: RATE, duration: LOAD_SECONDS }, () => resolve())
  })
  const state = { done: false }
  loaded.then(() => { state.done = true }, () => {})
  while (!state.done) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const res = await fetch(`${url}/diag/memory`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => null)
    if (res === null || !res.ok) continue
    const { trend } = await res.json() as { trend: { verdict: string, reason: string, timeToLimit: TimeToLimit | null } }
    watched.verdicts.push({ atS: (Date.now() - started) / 1000, verdict: trend.verdict, reason: trend.reason, timeToLimit: trend.timeToLimit })
  }
  await loaded
  return watched
}

t.test('under the same load, a leak is growing-heap within 120 s and a bounded cache is not at the end', async (t) => {
  const [leakUrl, cacheUrl] = await Promise.all([
    startService(t, { MODE: 'leak', LEAK_BYTES: '120' }),
    // 3,000 keys at 200 requests/s: 99% of them cached after 69 s, then only hits
    startService(t, { MODE: 'fill-once', LEAK_BYTES: '120', KEY_SPACE: '3000' })
  ])
  const [leak, cache] = await Promise.all([loadAndWatch(leakUrl), loadAndWatch(cacheUrl)])
  const summary = (w: Watched) => w.verdicts.map((v) => `${Math.round(v.atS)}:${v.verdict}`).join(' ')

  const firstGrowing = leak.verdicts.find((v) => v.verdict === 'growing-heap')
  t.ok(firstGrowing !== undefined && firstGrowing.atS <= 120, `leak: growing-heap after ${firstGrowing?.atS.toFixed(0)} s of load`, { verdicts: summary(leak) })
  const afterFirst = leak.verdicts.filter((v) => v.atS > (firstGrowing?.atS ?? Infinity))
  const steadyAfter = afterFirst.find((v) => v.verdict === 'steady')
  t.equal(steadyAfter, undefined, `never steady once reported: ${steadyAfter?.reason ?? ''}`, { verdicts: summary(leak) })
  t.ok(leak.verdicts.length >= LOAD_SECONDS * 0.7, 'the leaking app was watched all along')
  // No container limit here: the heap limit (heap_size_limit, ~4 GB) at a few MB/min is hours away.
  const timeToLimit = leak.verdicts.findLast((v) => v.verdict === 'growing-heap')?.timeToLimit
  t.ok(timeToLimit != null && timeToLimit.limit === 'heap' && timeToLimit.seconds > 3600 && timeToLimit.bytesPerMinute > 1e6,
    `time to the limit while growing-heap: ${JSON.stringify(timeToLimit)}`)
  t.ok(cache.verdicts.filter((v) => v.verdict !== 'growing-heap').every((v) => v.timeToLimit === null), 'none while not growing')

  const last = cache.verdicts.at(-1)
  t.not(last?.verdict, 'growing-heap', `bounded cache at the end: ${last?.reason}`, { verdicts: summary(cache) })
  t.ok(cache.verdicts.length >= LOAD_SECONDS * 0.7, 'the cache app was watched all along')
})
