import { garbageRate, withoutGarbage } from './garbage-promotion.js'
import { discountOvershoots, floorOutrunsGarbage, floorRisesRaw, judgeHeapFloor, risesUnevenly } from './heap-floor.js'
import type { HeapJudgement } from './heap-floor.js'
import { NATIVE_DOMINANCE, nativeGrowth } from './native-growth.js'
import type { NativeGrowth } from './native-growth.js'
import { fitRises, fitSeries } from './series-fit.js'
import type { Fitted } from './series-fit.js'
import { timeToLimit } from './time-to-limit.js'
import { lastTwoTroughsRise, settledMajors } from './troughs.js'
import { isGrowing, vote } from './vote.js'
import type { Assessment } from './vote.js'
import { heapReason, insufficientReason, nativeReason, outsideHeapRisesReason, overshootReason, sinceMajorReason, steadyReason, troughsReason, unevenReason, unconfirmedNativeReason, unconfirmedReason } from './wording.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { SeriesTrend, SnapshotSpan, TimedValue, TrendInput, TrendReport } from '../types/trend.js'

/**
 * Judges whether memory leaks, from the samples of the last `windowMs` before `input.now`.
 * Pure: pass the previous report to carry `since` over.
 *
 * The heap is judged on its floor (heapUsed right after every GC, scavenges included), which
 * rises with a leak at once, without waiting for a major GC. Between major GCs it also rises with
 * garbage promoted to the old generation; the rate of that is learned from the last full GC
 * cycle (what its major GC reclaimed) and subtracted, and a major GC that brings the heap back
 * to where the rise started refutes it.
 */
export function judgeTrend (input: TrendInput, thresholds: ResolvedTrendThresholds, previous: TrendReport | null = null): TrendReport {
  const start = input.now - thresholds.windowMs
  const inWindow = (points: readonly TimedValue[]) => points.filter((p) => p.t >= start && p.t <= input.now && Number.isFinite(p.v))
  const floor = inWindow(input.heapFloor)
  // A process that ran no GC between most samples (idle, or sampled very often): its heapUsed is the floor.
  const heapPoints = floor.length >= thresholds.minSamples ? floor : inWindow(input.heapUsed)
  const majors = input.majorGcHeap.filter((p) => p.t <= input.now)
  const majorsInWindow = majors.filter((p) => p.t >= start)
  const garbage = garbageRate(input.heapFloor, majors, input.now)
  const troughsRising = lastTwoTroughsRise(majors, start, thresholds)
  const settledTroughsRising = troughsRising ?? lastTwoTroughsRise(settledMajors(majors, input.heapFloor), start, thresholds)
  const heap = judgeHeapFloor({
    points: withoutGarbage(heapPoints, majors, garbage),
    majorsInWindow,
    majorBeforeWindow: majors.findLast((p) => p.t < start) ?? null,
    garbagePerMinute: garbage,
    now: input.now,
    // Growth is relative to the heap as measured: the garbage discount can take the corrected level near 0.
    level: fitSeries(heapPoints).fit?.intercept ?? 0,
    troughsRising: troughsRising !== null
  }, thresholds)
  const externalPoints = inWindow(input.external)
  const rssPoints = inWindow(input.rss)
  const external = fitSeries(externalPoints).trend
  const rss = fitSeries(rssPoints).trend
  // Without heapTotal, heapUsed stands in, but only for a suspicion: after a major GC V8 keeps
  // the pages it freed, so RSS minus heapUsed steps up at every GC that frees much.
  const committed = input.heapTotal !== undefined && input.heapTotal.length > 0
  const outsideHeapPoints = withoutSnapshotSteps(
    unexplained(input.rssAnon !== undefined && input.rssAnon.length > 0 ? inWindow(input.rssAnon) : rssPoints, committed ? input.heapTotal! : input.heapUsed, input.external),
    input.snapshots ?? [])
  const outsideHeapFit = fitSeries(outsideHeapPoints)
  const outsideHeap = outsideHeapFit.trend
  const native = nativeGrowth({
    external: externalPoints,
    outsideHeap: outsideHeapPoints,
    outsideHeapConfirms: committed,
    majorsInWindow,
    heapSlopePerMinute: heap.trend.slopeBytesPerMinute
  }, thresholds)

  const assessment = assess({ heap, native, troughsRising: settledTroughsRising, heapPoints, lastMajor: majorsInWindow.at(-1) ?? null, external, rss, outsideHeap, outsideHeapFit, threads: inWindow(input.threads ?? []) }, thresholds)
  const decided = vote({ assessment, previous, now: input.now, windowMs: thresholds.windowMs })
  return {
    verdict: decided.verdict,
    since: decided.since,
    reason: decided.reason,
    latest: decided.latest,
    grewAt: decided.grewAt,
    windowMs: thresholds.windowMs,
    heap: heap.trend,
    external,
    rss,
    outsideHeap,
    timeToLimit: decided.held
      ? previous!.timeToLimit
      : isGrowing(decided.verdict)
        ? timeToLimit({
          verdict: decided.verdict,
          bytesPerMinute: assessment.growthPerMinute,
          heapNow: heapPoints.at(-1)?.v ?? null,
          rssBytesPerMinute: rss.slopeBytesPerMinute,
          limits: input.limits
        })
        : null
  }
}

interface Evidence {
  heap: HeapJudgement
  native: NativeGrowth | null
  troughsRising: [TimedValue, TimedValue] | null
  /** The heap's floor in the window as measured, garbage included. */
  heapPoints: readonly TimedValue[]
  /** The last major GC in the window, if any. */
  lastMajor: TimedValue | null
  external: SeriesTrend
  rss: SeriesTrend
  outsideHeap: SeriesTrend
  outsideHeapFit: Fitted
  threads: readonly TimedValue[]
}

/** What this assessment alone says, with the growth it rests on when growing (0 otherwise). */
function assess (evidence: Evidence, thresholds: ResolvedTrendThresholds): Assessment & { growthPerMinute: number } {
  const { heap, native, troughsRising, external, rss, outsideHeap, threads } = evidence
  if (heap.whole.samples < thresholds.minSamples || heap.whole.spanMs < thresholds.minSpanMs) {
    return { verdict: 'insufficient-data', reason: insufficientReason(heap.whole, thresholds), growthPerMinute: 0 }
  }
  if (native?.confirmed === true) {
    return { verdict: 'growing-native', reason: nativeReason({ native, external, rss, outsideHeap, heap: heap.trend, threads }), growthPerMinute: native.bytesPerMinute }
  }
  if (native !== null) {
    return { verdict: 'insufficient-data', reason: unconfirmedNativeReason(native.bytesPerMinute, heap.trend), growthPerMinute: 0 }
  }
  if (heap.rising) {
    return { verdict: 'growing-heap', reason: heapReason(heap.trend, heap.excessPerMinute), growthPerMinute: heap.excessPerMinute }
  }
  if (troughsRising !== null) {
    // Two troughs cannot tell a leak from a cache that filled between them, but "steady" would
    // deny what the last major GC showed.
    return { verdict: 'insufficient-data', reason: troughsReason(troughsRising), growthPerMinute: 0 }
  }
  if (heap.refutedBy === null && floorRisesRaw(evidence.heapPoints, thresholds)) {
    // Rising, but no faster than garbage piled up during the last GC cycle: only the next major
    // GC can tell a leak from garbage, and "steady" would be a guess.
    return { verdict: 'insufficient-data', reason: unconfirmedReason(heap.trend), growthPerMinute: 0 }
  }
  const sinceMajor = floorOutrunsGarbage(evidence.heapPoints, evidence.lastMajor, heap.trend.garbageBytesPerMinute, thresholds)
  if (sinceMajor !== null) {
    return { verdict: 'insufficient-data', reason: sinceMajorReason(sinceMajor, heap.trend), growthPerMinute: 0 }
  }
  if (fitRises(evidence.outsideHeapFit, thresholds) && outsideHeap.slopeBytesPerMinute! >= NATIVE_DOMINANCE * Math.max(heap.trend.slopeBytesPerMinute ?? 0, 0)) {
    // Memory outside the heap climbs, not yet as a leak does (too short, or in one half only): "steady" would deny it.
    return { verdict: 'insufficient-data', reason: outsideHeapRisesReason(outsideHeap), growthPerMinute: 0 }
  }
  if (risesUnevenly(heap.trend, thresholds)) {
    return { verdict: 'insufficient-data', reason: unevenReason(heap.trend), growthPerMinute: 0 }
  }
  if (discountOvershoots(heap.trend, evidence.heapPoints, evidence.lastMajor, thresholds)) {
    return { verdict: 'insufficient-data', reason: overshootReason(heap.trend), growthPerMinute: 0 }
  }
  return { verdict: 'steady', reason: steadyReason(heap.trend, heap.refutedBy, external, rss), growthPerMinute: 0 }
}

/**
 * The series with what each of the plugin's heap snapshots added across it taken out of every
 * later point: the rise from the last sample before the snapshot to the first after it (none is
 * taken while it is written: the event loop is blocked). Measured on Node 24: three snapshots
 * 8 s apart left RSS +218 MiB/min over a minute, and a heap leak read growing-native.
 */
function withoutSnapshotSteps (points: readonly TimedValue[], snapshots: readonly SnapshotSpan[]): TimedValue[] {
  if (snapshots.length === 0 || points.length === 0) return [...points]
  const steps = snapshots.map(({ startMs, endMs }) => {
    const before = points.findLast((p) => p.t <= startMs)
    const after = points.find((p) => p.t >= endMs)
    return before === undefined || after === undefined ? null : { from: after.t, bytes: Math.max(0, after.v - before.v) }
  }).filter((step) => step !== null && step.bytes > 0) as Array<{ from: number, bytes: number }>
  return points.map((p) => {
    const added = steps.reduce((sum, step) => (p.t >= step.from ? sum + step.bytes : sum), 0)
    return added === 0 ? p : { t: p.t, v: p.v - added }
  })
}

/**
 * Per sample of `resident`, what the heap's committed size and `external` do not explain. What
 * the heap gives up counts only as far as resident memory falls with it: pages V8 releases at a
 * major GC may stay resident (pooled until the memory reducer returns them). Measured on Node 24:
 * a service keeping nothing had heapTotal fall from 64 to 33 MB at a major GC, anonymous RSS stay
 * at 81 MB, and read growing-native; a malloc leak's fell from 51 to 18 MB, RSS by 24 MB.
 */
function unexplained (resident: readonly TimedValue[], heap: readonly TimedValue[], external: readonly TimedValue[]): TimedValue[] {
  const heapAt = new Map(heap.map((p) => [p.t, p.v]))
  const externalAt = new Map(external.map((p) => [p.t, p.v]))
  let committed = -Infinity
  let previous: number | undefined
  return resident.filter((p) => heapAt.has(p.t) && externalAt.has(p.t)).map((p) => {
    const released = previous === undefined ? Infinity : Math.max(0, previous - p.v)
    committed = Math.max(heapAt.get(p.t)!, committed - released)
    previous = p.v
    return { t: p.t, v: p.v - committed - externalAt.get(p.t)! }
  })
}
