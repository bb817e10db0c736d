// The capture cannot storm: a verdict flapping every few seconds, or a process restarting in a
// loop with the same snapshot directory, takes at most `maxSnapshots` snapshots. The verdict is
// driven by a fake series of reports on a fake clock; the snapshot lifecycle, its lock, its
// store and the records file are the real ones (the heap writer writes a small file instead of V8's).
import { readdirSync, readFileSync } from 'node:fs'
import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { openCgroupProbe } from '../../../plugin/cgroup.js'
import { createCapturer } from '../../../plugin/capture/capturer.js'
import { decideCapture } from '../../../plugin/capture/policy.js'
import type { CaptureRecord } from '../../../plugin/capture/policy.js'
import { CAPTURE_RECORDS_FILE } from '../../../plugin/capture/records.js'
import { DEFAULTS } from '../../../plugin/defaults.js'
import { createSnapshotLifecycle } from '../../../plugin/snapshot/lifecycle.js'
import { createSnapshotStore } from '../../../plugin/snapshot/store.js'
import type { ResolvedCapture } from '../../../plugin/types/options.js'
import type { TrendReport, TrendVerdict } from '../../../plugin/types/trend.js'
import { tempDir, writeSmallSnapshot } from '../../helpers/build-app.js'

const MINUTE = 60_000
const SETTINGS: ResolvedCapture = { ...DEFAULTS.capture, heapProfile: false }
const BUDGET = { max: 2, windowMs: 10 * MINUTE }

function report (verdict: TrendVerdict): TrendReport {
  return { verdict, reason: `fake ${verdict}` } as TrendReport
}

interface Process {
  readonly writes: () => number
  readonly records: () => readonly CaptureRecord[]
  /** Feeds one report every `stepMs` of fake time for `durationMs`, the verdict flapping at each. */
  readonly flap: (durationMs: number, stepMs: number) => Promise<void>
}

/** One process's capture: its own lifecycle and capturer on `dir`, its clock starting at `startAt`. */
function startProcess (t: Test, dir: string, clock: { now: number }, settings: ResolvedCapture): Process {
  const store = createSnapshotStore({ dir, maxFiles: 10, maxAgeMs: 24 * 60 * MINUTE })
  const cgroup = openCgroupProbe('/sys/fs/cgroup', '/proc/self/cgroup')
  t.teardown(() => cgroup.close())
  let writes = 0
  const snapshots = createSnapshotLifecycle({
    store,
    cgroup,
    settings: { guard: false, marginBytes: 0, maxHeapUsedBytes: null, cacheLineEnds: false },
    writeHeap: (path: string) => { writes++; writeSmallSnapshot(path) }
  })
  const startedAt = clock.now
  const capturer = createCapturer({
    settings,
    budget: BUDGET,
    dir,
    snapshots,
    ensureSampling: () => true,
    readProfile: () => ({}),
    readContainer: () => ({ usageBytes: null, limitBytes: null }),
    log: Fastify().log,
    sink: null,
    maxFiles: 3,
    maxAgeMs: 60 * MINUTE,
    now: () => clock.now,
    uptimeMs: () => clock.now - startedAt
  })
  t.teardown(() => capturer.stop())
  return {
    writes: () => writes,
    records: () => capturer.records(),
    async flap (durationMs, stepMs) {
      for (let at = 0, i = 0; at < durationMs; at += stepMs, i++) {
        clock.now += stepMs
        capturer.observe(report(i % 2 === 0 ? 'growing-heap' : 'steady'))
        await capturer.idle()
        await snapshots.idle()
      }
    }
  }
}

t.test('a verdict flapping every 5 s for two hours: at most maxSnapshots snapshots, spaced', async (t) => {
  const dir = tempDir(t)
  const clock = { now: Date.UTC(2026, 0, 1) }
  const process = startProcess(t, dir, clock, SETTINGS)
  await process.flap(120 * MINUTE, 5000)
  t.equal(process.writes(), 3, 'three snapshots: what find-leaks needs, and maxSnapshots')
  const times = process.records().map((r) => r.at)
  t.ok(times.slice(1).every((at, i) => at - times[i]! >= 5 * MINUTE), 'at least the spacing apart')
  t.ok(times[0]! - Date.UTC(2026, 0, 1) >= SETTINGS.startAfterMs, 'none in the first minutes')
  t.equal(readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot')).length, 3)
})

t.test('a restart loop with the same directory: the records file keeps the count', async (t) => {
  const dir = tempDir(t)
  const clock = { now: Date.UTC(2026, 0, 1) }
  const settings = { ...SETTINGS, startAfterMs: 0 } // the worst case: asked to capture at once
  let writes = 0
  for (let restart = 0; restart < 8; restart++) {
    const process = startProcess(t, dir, clock, settings)
    await process.flap(2 * MINUTE, 3000) // each process lives two minutes, leaking
    writes += process.writes()
  }
  t.equal(writes, 3, 'eight processes took three snapshots between them')
  const recorded = JSON.parse(readFileSync(`${dir}/${CAPTURE_RECORDS_FILE}`, 'utf8')) as { records: CaptureRecord[] }
  t.equal(recorded.records.filter((r) => r.kind === 'heap-snapshot').length, 3, 'recorded in the snapshot directory')
  t.ok(new Set(recorded.records.map((r) => r.reason)).size === 1 && recorded.records[0]?.reason === 'the trend verdict is growing-heap: fake growing-heap', 'each with why')
})

t.test('the policy: uptime, spacing, the rate limit, the period, the container share', async (t) => {
  const at = Date.UTC(2026, 0, 1)
  const observation = { now: at, uptimeMs: 10 * MINUTE, verdict: 'growing-native' as const, verdictReason: 'rss +3 MB/min', container: { usageBytes: null, limitBytes: null } }
  const snapshotAt = (ms: number): CaptureRecord => ({ kind: 'heap-snapshot', at: at - ms, pid: 1, trigger: 'growing-heap', reason: '', id: String(ms) })
  t.same(decideCapture(observation, [], SETTINGS, BUDGET), { trigger: 'growing-native', reason: 'the trend verdict is growing-native: rss +3 MB/min', snapshot: true, profile: false })
  t.equal(decideCapture({ ...observation, uptimeMs: 4 * MINUTE }, [], SETTINGS, BUDGET), null, 'not in the first five minutes')
  t.equal(decideCapture({ ...observation, verdict: 'steady' }, [], SETTINGS, BUDGET), null, 'steady: nothing')
  t.equal(decideCapture(observation, [snapshotAt(4 * MINUTE)], SETTINGS, BUDGET), null, 'within the spacing')
  t.equal(decideCapture(observation, [snapshotAt(6 * MINUTE)], { ...SETTINGS, spacingMs: MINUTE }, { max: 1, windowMs: 10 * MINUTE }), null,
    'the rate limit of 1 per 10 minutes spaces them 10 minutes apart, whatever spacingMs says')
  t.equal(decideCapture(observation, [snapshotAt(MINUTE * 20), snapshotAt(MINUTE * 10)], { ...SETTINGS, spacingMs: MINUTE }, { max: 2, windowMs: 60 * MINUTE }), null,
    'never more than the rate limit\'s max in its window')
  t.equal(decideCapture(observation, [snapshotAt(60 * MINUTE), snapshotAt(50 * MINUTE), snapshotAt(40 * MINUTE)], SETTINGS, BUDGET), null, 'maxSnapshots reached in the period')
  t.same(decideCapture(observation, [snapshotAt(60 * MINUTE), snapshotAt(50 * MINUTE), snapshotAt(40 * MINUTE)], { ...SETTINGS, heapProfile: true }, BUDGET)?.snapshot, false,
    'a profile still, never a fourth snapshot')
  const full = { ...observation, verdict: 'steady' as const, container: { usageBytes: 900, limitBytes: 1000 } }
  t.same(decideCapture(full, [], SETTINGS, BUDGET)?.reason, 'the container uses 90% of its memory limit (capture.containerShare 0.85)')
  t.equal(decideCapture(full, [], { ...SETTINGS, containerShare: null }, BUDGET), null)
})
