// Two real Fastify apps in child processes under the same HTTP load, each with the plugin's trend
// on a 60 s window sampled every second: one keeps ~17 MB/min of small objects per request, the
// other keeps nothing. The live check of the whole path (sampler, GC observer, verdict, route);
// the verdict's rules are held to recorded series of slower leaks, caches and steps, from Node 20
// and 24, in backtest.test.ts, where a moderate leak behind start-up garbage is also replayed.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { readRecording } from '../../../bench/memory-series/recording.js'
import type { Expectation } from '../../../bench/memory-series/replay.js'
import { freePort } from '../../../load/free-port.js'
import { uncoveredChildEnv } from '../../helpers/child-env.js'

const SERVICE = fileURLToPath(new URL('../../fixtures/leak-service.ts', import.meta.url))
const RECORDER = fileURLToPath(new URL('../../../bench/memory-series/recorder.ts', import.meta.url))
const TOKEN = 'two-apps-token-0123456789'
const LOAD_SECONDS = 75
// "Within a minute" is what the verdict promises for a leak this fast.
const CAUGHT_WITHIN_S = 60
// 200 requests per second: 600 bytes a request keeps ~17 MB/min (5× test/fixtures/memory-series/service-leak.json).
const RATE = 200
const LEAK_BYTES = '600'

interface TimeToLimit { seconds: number, limit: string, bytesLeft: number, bytesPerMinute: number }
interface Watched { loadStartedAt: number, verdicts: Array<{ atS: number, verdict: string, reason: string, timeToLimit: TimeToLimit | null }> }

/** Starts the service with the memory recorder preloaded, writing to `record`. */
async function startService (t: Test, env: Record<string, string>, record: string): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', RECORDER, SERVICE], {
    env: { ...uncoveredChildEnv(), ...env, PORT: String(port), DIAGNOSTICS_TOKEN: TOKEN, MEMDIAG_RECORD: record },
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
  const started = Date.now()
  const watched: Watched = { loadStartedAt: started, verdicts: [] }
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

t.test(`under the same load, a leak is growing-heap within ${CAUGHT_WITHIN_S} s and a service that keeps nothing never is`, async (t) => {
  const records = { leak: join(tmpdir(), `memdiag-two-apps-leak-${process.pid}.json`), steady: join(tmpdir(), `memdiag-two-apps-steady-${process.pid}.json`) }
  const [leakUrl, steadyUrl] = await Promise.all([
    startService(t, { MODE: 'leak', LEAK_BYTES }, records.leak),
    startService(t, { MODE: 'steady', LEAK_BYTES }, records.steady)
  ])
  const [leak, steady] = await Promise.all([loadAndWatch(leakUrl), loadAndWatch(steadyUrl)])
  const summary = (w: Watched) => w.verdicts.map((v) => `${Math.round(v.atS)}:${v.verdict}`).join(' ')
  // the reason of every change of verdict, to tell on a failure what the verdict rested on
  const changes = (w: Watched) => w.verdicts.filter((v, i) => i === 0 || v.verdict !== w.verdicts[i - 1]!.verdict || i % 10 === 0)
    .map((v) => `${Math.round(v.atS)} s ${v.verdict}: ${v.reason}`)

  const firstGrowing = leak.verdicts.find((v) => v.verdict === 'growing-heap')
  t.ok(firstGrowing !== undefined && firstGrowing.atS <= CAUGHT_WITHIN_S, `leak: growing-heap after ${firstGrowing?.atS.toFixed(0)} s of load`, { verdicts: summary(leak), reasons: changes(leak) })
  // The leak runs from the first request: "steady" at any reading would be false.
  const steadyAt = leak.verdicts.find((v) => v.verdict === 'steady')
  t.equal(steadyAt, undefined, `leak: never steady: ${steadyAt?.reason ?? ''}`, { verdicts: summary(leak), reasons: changes(leak) })
  t.ok(leak.verdicts.length >= LOAD_SECONDS * 0.7, 'the leaking app was watched all along')
  // No container limit here: the heap limit (heap_size_limit, ~4 GB) at ~17 MB/min is hours away.
  const timeToLimit = leak.verdicts.findLast((v) => v.verdict === 'growing-heap')?.timeToLimit
  t.ok(timeToLimit != null && timeToLimit.limit === 'heap' && timeToLimit.seconds > 3600 && timeToLimit.bytesPerMinute > 5e6,
    `time to the limit while growing-heap: ${JSON.stringify(timeToLimit)}`)
  t.ok(steady.verdicts.every((v) => v.timeToLimit === null), 'no time to the limit for the service that keeps nothing')

  const growing = steady.verdicts.find((v) => v.verdict.startsWith('growing'))
  t.equal(growing, undefined, `keeping nothing: never growing (${growing?.reason ?? ''})`, { verdicts: summary(steady), reasons: changes(steady) })
  t.ok(steady.verdicts.length >= LOAD_SECONDS * 0.7, 'the steady app was watched all along')

  // On a failure, both series stay behind as backtest fixtures, to replay what the verdict saw
  // (bench/memory-series/explain.ts); on a pass, they are removed.
  t.teardown(() => {
    for (const [mode, expected, watched] of [['leak', 'growing-heap', leak], ['steady', 'not-growing', steady]] as const) {
      const file = records[mode]
      if (t.passing()) {
        rmSync(file, { force: true })
        continue
      }
      const kept = join(tmpdir(), `two-apps-${mode}-${process.pid}.json`)
      const label = { name: `two-apps-${mode}-${process.pid}`, description: `the two-apps test's ${mode} service, kept on a failure`, expected: expected as Expectation, command: 'test/plugin/trend/two-apps.test.ts', loadStartedAt: watched.loadStartedAt }
      writeFileSync(kept, JSON.stringify(readRecording(file, label)) + '\n')
      rmSync(file, { force: true })
      console.error(`two-apps: the ${mode} service's memory series: ${kept}`)
    }
  })
})
