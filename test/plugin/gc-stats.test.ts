import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createGcRecorder } from '../../plugin/gc-recorder.js'
import { GC_KINDS } from '../../plugin/types/reports.js'
import type { GcKind } from '../../plugin/types/reports.js'
import { AUTH, build } from '../helpers/build-app.js'
import { uncoveredChildEnv } from '../helpers/child-env.js'

const gc = globalThis.gc as () => void
// GC entries reach observers on a later turn of the loop (not the next setImmediate).
const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

t.test('GET /gc-stats counts rise after global.gc()', async (t) => {
  t.type(gc, 'function', 'tests run with --expose-gc (.taprc)')
  const { app } = await build(t, {}, { prefix: '/diag' })
  const before = (await app.inject({ url: '/diag/gc-stats', headers: AUTH })).json()
  for (let i = 0; i < 5; i++) gc()
  await settle()
  const res = await app.inject({ url: '/diag/gc-stats', headers: AUTH })
  t.equal(res.statusCode, 200)
  const after = res.json()
  t.ok(after.sinceStart.kinds.major.count >= before.sinceStart.kinds.major.count + 5, 'five forced major GCs counted')
  t.ok(after.window.kinds.major.count >= 5, 'and in the recent window')
  t.equal(after.window.windowMs, 60_000)
  for (const period of [after.sinceStart, after.window]) {
    const major = period.kinds.major
    t.ok(major.totalMs > 0 && major.maxMs > 0)
    t.ok(major.p50Ms <= major.p95Ms && major.p95Ms <= major.p99Ms, 'percentiles are ordered')
    t.ok(major.p99Ms <= major.maxMs, 'p99 within max')
    t.ok(period.gcShare > 0 && period.gcShare < 1, 'share of wall time in GC')
    t.equal(period.count, GC_KINDS.reduce((sum: number, kind: GcKind) => sum + period.kinds[kind].count, 0))
  }
})

t.test('recorder: every entry of a batch is counted, and the window slides', async (t) => {
  let clock = 0
  const seen: string[] = []
  const recorder = createGcRecorder({ windowMs: 60_000, now: () => clock, observe: false, onEntry: (kind) => seen.push(kind) })
  t.teardown(() => recorder.stop())
  for (let i = 1; i <= 100; i++) recorder.record('minor', i / 10)
  recorder.record('major', 50)
  recorder.record('incremental', 1)
  recorder.record('weakcb', 0.0001)
  t.equal(seen.length, 103)

  clock = 30_000
  let stats = recorder.stats()
  t.match(stats.sinceStart.kinds.minor, { count: 100, maxMs: 10, totalMs: 505 })
  t.ok(Math.abs(stats.sinceStart.kinds.minor.p50Ms - 5) <= 0.1, `p50 ≈ 5 ms (${stats.sinceStart.kinds.minor.p50Ms})`)
  t.ok(Math.abs(stats.sinceStart.kinds.minor.p99Ms - 9.9) <= 0.1, `p99 ≈ 9.9 ms (${stats.sinceStart.kinds.minor.p99Ms})`)
  t.equal(stats.sinceStart.kinds.weakcb.count, 1, 'sub-microsecond pauses still count')
  t.equal(stats.window.count, 103)
  t.equal(stats.sinceStart.durationMs, 30_000)
  t.equal(stats.window.durationMs, 30_000, 'the window covers only the time since start')
  t.equal(stats.sinceStart.gcShare, Math.round((505 + 50 + 1 + 0.0001) / 30_000 * 1e6) / 1e6)

  clock = 65_000
  recorder.record('major', 20)
  stats = recorder.stats()
  t.equal(stats.window.count, 1, 'entries older than the window are gone')
  t.match(stats.window.kinds.major, { count: 1, maxMs: 20, p50Ms: 20 })
  t.ok(stats.window.durationMs <= 60_000 && stats.window.durationMs >= 50_000, `window span ${stats.window.durationMs}`)
  t.equal(stats.sinceStart.count, 104, 'since start keeps everything')

  clock = 1_000_000
  t.equal(recorder.stats().window.count, 0, 'a long idle period empties the window')
})

t.test('stop() disconnects the observer', async (t) => {
  let entries = 0
  const recorder = createGcRecorder({ windowMs: 60_000, onEntry: () => { entries++ } })
  gc()
  await settle()
  t.ok(entries >= 1, 'entries arrive while observing')
  recorder.stop()
  const seen = entries
  gc()
  await settle()
  t.equal(entries, seen, 'no entry after stop()')
})

t.test('a process using the plugin exits on its own after close (no hanging handle)', async (t) => {
  const script = fileURLToPath(new URL('../fixtures/close-and-exit.ts', import.meta.url))
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000, env: uncoveredChildEnv() })
  t.equal(child.signal, null, 'not killed by the timeout')
  t.equal(child.status, 0, child.stderr)
  t.match(child.stdout, /closed/)
})
