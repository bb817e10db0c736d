import t from 'tap'
import { resolveTrendThresholds } from '../../../plugin/trend/thresholds.js'
import type { TrendThresholds } from '../../../plugin/types/options.js'
import { judgeTrend } from '../../../plugin/trend/verdict.js'
import type { MemoryLimits, TimedValue, TrendInput, TrendReport } from '../../../plugin/types/trend.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const MIB = 1024 * 1024
const MINUTE = 60_000
const START = Date.UTC(2025, 0, 1, 12, 0, 0)

interface Simulation {
  minutes: number
  /** Live (reachable) heap at `minute`. */
  live?: (minute: number) => number
  /** Memory outside the V8 heap at `minute`. */
  native?: (minute: number) => number
  /** Garbage promoted to the old generation per minute (the sawtooth's slope). */
  garbagePerMinute?: number
  /** Promoted garbage at which V8 runs a major GC (the sawtooth's height). */
  majorGcAtGarbage?: number
  seed?: number
}

/**
 * A process as the sampler sees it with the default 5 s interval: garbage piles up in the old
 * generation at a jittered rate above the live heap, and a major GC at `majorGcAtGarbage` takes it
 * back to the live heap (± 0.5 MiB); the floor (heap after scavenges) is live + garbage ± 0.3 MiB;
 * RSS and external follow the heap and native memory with noise.
 */
function simulate ({ minutes, live = () => 60 * MIB, native = () => 20 * MIB, garbagePerMinute = 6 * MIB, majorGcAtGarbage = 30 * MIB, seed = 1 }: Simulation): TrendInput {
  const next = seededRandom(seed)
  const noise = (amplitude: number): number => (next() * 2 - 1) * amplitude
  const input: TrendInput = { now: START + minutes * MINUTE, heapUsed: [], heapFloor: [], majorGcHeap: [], rss: [], external: [], limits: null }
  const push = (series: readonly TimedValue[], t: number, v: number) => { (series as TimedValue[]).push({ t, v }) }
  let garbage = 0
  for (let second = 0; second <= minutes * 60; second++) {
    const minute = second / 60
    const t = START + second * 1000
    garbage += (garbagePerMinute / 60) * (0.5 + next())
    if (garbage > majorGcAtGarbage) {
      garbage = 0
      push(input.majorGcHeap, t, live(minute) + noise(0.5 * MIB))
    }
    if (second % 5 !== 0) continue
    const floor = live(minute) + garbage + noise(0.3 * MIB)
    push(input.heapFloor, t, floor)
    push(input.heapUsed, t, floor + next() * 8 * MIB)
    push(input.rss, t, 50 * MIB + live(minute) + majorGcAtGarbage + native(minute) + noise(2 * MIB))
    push(input.external, t, native(minute) + noise(0.2 * MIB))
  }
  return input
}

/** The verdict every 30 s from `fromMinute` on, as the monitor would have given it. */
function verdicts (input: TrendInput, fromMinute: number, thresholds: TrendThresholds = {}): TrendReport[] {
  const resolved = resolveTrendThresholds(thresholds)
  const reports: TrendReport[] = []
  let previous: TrendReport | null = null
  const end = (input.now - START) / MINUTE
  for (let minute = fromMinute; minute <= end; minute += 0.5) {
    previous = judgeTrend({ ...input, now: START + minute * MINUTE }, resolved, previous)
    reports.push(previous)
  }
  return reports
}

const names = (reports: readonly TrendReport[]) => [...new Set(reports.map((r) => r.verdict))].join(', ')

t.test('steady traffic with a GC sawtooth is steady all along', async (t) => {
  for (const seed of [1, 2, 3]) {
    const reports = verdicts(simulate({ minutes: 40, seed }), 10)
    t.same(names(reports), 'steady', `seed ${seed}: ${reports.find((r) => r.verdict !== 'steady')?.reason ?? ''}`)
  }
})

t.test('a slow sawtooth (a major GC every 20 minutes) is never growing; between GCs it may be unconfirmed', async (t) => {
  const reports = verdicts(simulate({ minutes: 60, garbagePerMinute: 1 * MIB, majorGcAtGarbage: 20 * MIB }), 25)
  t.notOk(reports.some((r) => r.verdict.startsWith('growing')), names(reports))
  t.ok(reports.some((r) => r.verdict === 'steady'), 'steady once a major GC has shown the rise was garbage')
  const unconfirmed = reports.find((r) => r.verdict === 'insufficient-data')
  if (unconfirmed !== undefined) t.match(unconfirmed.reason, /the next major GC will tell/)
})

t.test('a leak of 2 MiB/min on a 60 MiB heap is growing-heap within one window', async (t) => {
  const input = simulate({ minutes: 30, live: (m) => 60 * MIB + Math.max(0, m - 15) * 2 * MIB })
  const reports = verdicts(input, 15)
  const first = reports.findIndex((r) => r.verdict === 'growing-heap')
  t.ok(first >= 0 && first * 0.5 <= 10, `first growing-heap ${first * 0.5} min after the leak started`)
  t.notOk(reports.slice(first).some((r) => r.verdict === 'steady'), 'never steady once reported: ' + names(reports.slice(first)))
})

t.test('a leak that started inside the window is growing-heap, never steady, before a major GC confirms it', async (t) => {
  // 3 MiB/min of garbage against a 60 MiB sawtooth height: one major GC every 20 minutes
  const input = simulate({ minutes: 40, garbagePerMinute: 3 * MIB, majorGcAtGarbage: 60 * MIB, live: (m) => 60 * MIB + Math.max(0, m - 24) * 3 * MIB })
  const reports = verdicts(input, 24)
  const first = reports.findIndex((r) => r.verdict === 'growing-heap')
  t.ok(first >= 0 && first * 0.5 <= 6, `first growing-heap ${first * 0.5} min after the leak started: ${names(reports)}`)
  t.notOk(reports.slice(first).some((r) => r.verdict === 'steady'), names(reports.slice(first)))
  t.ok(reports.slice(first).some((r) => r.heap.recent), 'said to be recent while the leak held the newer half only')
})

t.test('a cache filling for 5 minutes then bounded is steady once the level is flat', async (t) => {
  const live = (m: number) => 60 * MIB + Math.min(Math.max(0, m - 10), 5) * 8 * MIB
  const reports = verdicts(simulate({ minutes: 40, live }), 25)
  t.same(names(reports), 'steady', reports.find((r) => r.verdict !== 'steady')?.reason ?? '')
})

t.test('a one-off step is not a leak, even while it sits in the window', async (t) => {
  const live = (m: number) => 60 * MIB + (m >= 15 ? 40 * MIB : 0)
  const native = (m: number) => 20 * MIB + (m >= 15 ? 300 * MIB : 0)
  const reports = verdicts(simulate({ minutes: 35, live, native }), 12)
  t.notOk(reports.some((r) => r.verdict.startsWith('growing')), names(reports))
})

t.test('memory growing outside the heap is growing-native once major GCs show it kept', async (t) => {
  // V8 also runs major GCs on external memory's growth: one every 2.5 minutes here
  const input = simulate({ minutes: 25, native: (m) => 20 * MIB + m * 4 * MIB, garbagePerMinute: 12 * MIB })
  const reports = verdicts(input, 12)
  t.same(names(reports), 'growing-native', reports.find((r) => r.verdict !== 'growing-native')?.reason ?? '')
  const rare = verdicts(simulate({ minutes: 25, native: (m) => 20 * MIB + m * 4 * MIB, garbagePerMinute: 3 * MIB }), 12)
  t.notOk(rare.some((r) => r.verdict.startsWith('growing')), 'with too few major GCs to tell, it is only suspected: ' + names(rare))
  t.match(rare.at(-1)!.reason, /memory outside the V8 heap rises/)
})

t.test('too few samples is insufficient-data', async (t) => {
  const input = simulate({ minutes: 3 })
  t.equal(judgeTrend(input, resolveTrendThresholds()).verdict, 'insufficient-data')
})

t.test('time to the limit: whichever of the heap limit and the container limit comes first', async (t) => {
  const input = simulate({ minutes: 30, live: (m) => 60 * MIB + m * 4 * MIB })
  const limits = (container: number | null): MemoryLimits => ({ heapLimitBytes: 400 * MIB, containerLimitBytes: container, containerUsageBytes: container === null ? null : 300 * MIB })
  const thresholds = resolveTrendThresholds()
  const heapFirst = judgeTrend({ ...input, limits: limits(null) }, thresholds)
  t.equal(heapFirst.verdict, 'growing-heap')
  t.equal(heapFirst.timeToLimit?.limit, 'heap')
  // heap at ~180 MiB + garbage, 400 MiB limit, +4 MiB/min: about 50 minutes
  const minutes = heapFirst.timeToLimit!.seconds / 60
  t.ok(minutes > 35 && minutes < 60, `${minutes.toFixed(1)} min to the heap limit`)
  t.ok(Math.abs(heapFirst.timeToLimit!.bytesPerMinute - 4 * MIB) < 0.5 * MIB, `rate ${heapFirst.timeToLimit!.bytesPerMinute}`)

  const containerFirst = judgeTrend({ ...input, limits: limits(340 * MIB) }, thresholds)
  t.equal(containerFirst.timeToLimit?.limit, 'container')
  t.ok(containerFirst.timeToLimit!.seconds < heapFirst.timeToLimit!.seconds)
  t.equal(containerFirst.timeToLimit!.bytesLeft, 40 * MIB)

  const steady = judgeTrend({ ...simulate({ minutes: 30 }), limits: limits(340 * MIB) }, thresholds)
  t.equal(steady.timeToLimit, null, 'no time to the limit when not growing')
})

t.test('since carries over while the verdict holds, and resets when it changes', async (t) => {
  const input = simulate({ minutes: 30, live: (m) => 60 * MIB + Math.max(0, m - 10) * 4 * MIB })
  const reports = verdicts(input, 10)
  const growing = reports.filter((r) => r.verdict === 'growing-heap')
  t.ok(growing.length > 2)
  t.equal(new Set(growing.map((r) => r.since)).size, 1, 'one since for one run of growing-heap')
  t.ok(reports.filter((r) => r.verdict === 'steady').every((r) => r.since === null))
})

t.test('thresholds', async (t) => {
  t.same(resolveTrendThresholds(), { windowMs: 600_000, minSpanMs: 300_000, minSamples: 10, minSlopeBytesPerMinute: 262_144, minRelativeGrowth: 0.05, minConfidence: 0.8 })
  t.equal(resolveTrendThresholds({ windowMs: 60_000 }).minSpanMs, 30_000, 'the span follows the window')
  const given = { windowMs: 60_000 }
  resolveTrendThresholds(given)
  t.same(given, { windowMs: 60_000 }, 'never mutates its argument')
  for (const bad of [{ windowMs: 0 }, { windowMs: -1 }, { minSlopeBytesPerMinute: Number.NaN }, { minSamples: 2 }, { minSamples: 3.5 },
    { minConfidence: 0.5 }, { minConfidence: 1.1 }, { windowMs: 1000, minSpanMs: 2000 }, { minRelativeGrowth: '1' }] as TrendThresholds[]) {
    t.throws(() => resolveTrendThresholds(bad), { code: 'FST_MEMDIAG_INVALID_OPTION' }, JSON.stringify(bad))
  }
})

t.test('a leak whose floor is too noisy to confirm is never called steady', async (t) => {
  // Sampled every second over a 60 s window: +11 MiB/min under ±4 MiB of noise, as a leak read
  // live on Node 20 while its first major GCs ran (+19% over 30 s, 62% of sample pairs agreeing).
  const thresholds = resolveTrendThresholds({ windowMs: MINUTE })
  const next = seededRandom(7)
  const heapFloor: TimedValue[] = []
  const heapUsed: TimedValue[] = []
  const rss: TimedValue[] = []
  const external: TimedValue[] = []
  const read: string[] = []
  let previous: TrendReport | null = null
  for (let second = 0; second <= 90; second++) {
    const t = START + second * 1000
    const floor = 30 * MIB + 11 * MIB * second / 60 + (next() * 2 - 1) * 4 * MIB
    heapFloor.push({ t, v: floor })
    heapUsed.push({ t, v: floor + 2 * MIB })
    rss.push({ t, v: 120 * MIB })
    external.push({ t, v: 2 * MIB })
    previous = judgeTrend({ now: t, heapUsed, heapFloor, majorGcHeap: [], rss, external, limits: null }, thresholds, previous)
    read.push(`${second}:${previous.verdict}${previous.verdict === 'steady' ? ` (${previous.reason})` : ''}`)
  }
  t.notOk(read.some((r) => r.includes(':steady')), read.join(' '))
})

t.test('a leak that starts right after a major GC is never called steady before the next one tells', async (t) => {
  // Majors come every ~8 min (6 MiB/min of garbage, a 48 MiB sawtooth), whatever the live heap.
  const sawtooth = { minutes: 40, majorGcAtGarbage: 48 * MIB }
  const major = simulate(sawtooth).majorGcHeap.find((p) => p.t >= START + 15 * MINUTE)!
  const leakFrom = (major.t - START) / MINUTE
  // 1.2 MiB/min more than the garbage: a fifth of the rate learned from the cycle before.
  const input = simulate({ ...sawtooth, live: (m) => 60 * MIB + Math.max(0, m - leakFrom) * 1.2 * MIB })
  const nextMajor = input.majorGcHeap.find((p) => p.t > major.t)!
  // Judged from when the rise since the major spans half the minimum span (2.5 min of the default
  // 10 min window) and three assessments in a row had time to agree; verdicts() judges every 30 s.
  const from = leakFrom + 4
  const reports = verdicts(input, from).filter((_, i) => START + (from + i * 0.5) * MINUTE < nextMajor.t)
  t.ok(reports.length >= 4, `${reports.length} verdicts between the two major GCs`)
  t.notOk(reports.some((r) => r.verdict === 'steady'), reports.map((r) => `${r.verdict}: ${r.reason}`).join('\n'))
})

t.test('what the plugin\'s own heap snapshots leave resident is no native leak', async (t) => {
  // 1 s samples, a 60 s window, a flat heap: three snapshots 12-16 s apart, each leaving 25 MB of
  // anonymous RSS behind (glibc keeps what the snapshot freed), as a capture does.
  const thresholds = resolveTrendThresholds({ windowMs: MINUTE })
  const snapshots = [12, 24, 40].map((s) => ({ startMs: START + s * 1000 + 200, endMs: START + s * 1000 + 900 }))
  const series = (withSnapshots: boolean): string[] => {
    const next = seededRandom(3)
    const input: TrendInput = { now: START, heapUsed: [], heapFloor: [], majorGcHeap: [], rss: [], external: [], heapTotal: [], rssAnon: [], limits: null }
    const push = (points: readonly TimedValue[] | undefined, time: number, v: number) => { (points as TimedValue[]).push({ t: time, v }) }
    const read: string[] = []
    let previous: TrendReport | null = null
    for (let second = 0; second <= 90; second++) {
      const time = START + second * 1000
      const left = snapshots.filter((s) => s.endMs <= time).length * 25 * MIB
      const heap = 40 * MIB + (next() * 2 - 1) * MIB
      push(input.heapFloor, time, heap)
      push(input.heapUsed, time, heap + 4 * MIB)
      push(input.heapTotal, time, 64 * MIB)
      push(input.rssAnon, time, 100 * MIB + left + (next() * 2 - 1) * 0.3 * MIB)
      push(input.rss, time, 150 * MIB + left)
      push(input.external, time, 5 * MIB)
      previous = judgeTrend({ ...input, now: time, ...(withSnapshots ? { snapshots: snapshots.filter((s) => s.endMs <= time) } : {}) }, thresholds, previous)
      read.push(previous.verdict)
    }
    return read
  }
  t.ok(series(false).includes('growing-native'), 'told nothing of the snapshots, the steps read as a native leak')
  t.notOk(series(true).includes('growing-native'), 'told of them, never growing-native')
})
