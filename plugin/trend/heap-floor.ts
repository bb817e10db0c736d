import { afterStep } from './one-off-step.js'
import { fitRises, fitSeries, rises } from './series-fit.js'
import type { Fitted } from './series-fit.js'
import type { SlopeFit } from './theil-sen.js'
import { troughsRise } from './troughs.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { HeapTrend, SeriesTrend, TimedValue } from '../types/trend.js'

export interface HeapFloorInput {
  /** The floor in the window, the garbage promoted since each major GC discounted. */
  points: readonly TimedValue[]
  majorsInWindow: readonly TimedValue[]
  /** The last major GC before the window: the troughs' anchor. */
  majorBeforeWindow: TimedValue | null
  /** The garbage rate discounted from `points`, `null` before a full GC cycle was seen. */
  garbagePerMinute: number | null
  now: number
  /** The heap's level as measured, garbage included: what growth is relative to. */
  level: number
  /** The last major GC event left more than the one before it (see `lastTwoTroughsRise`). */
  troughsRising: boolean
}

export interface HeapJudgement {
  trend: HeapTrend
  /** The fit over the whole window, whichever fit the verdict rests on. */
  whole: SeriesTrend
  rising: boolean
  excessPerMinute: number
  /** The major GC that took the heap back to where the rise started, if one did. */
  refutedBy: TimedValue | null
}

/**
 * Whether the heap's floor rises: over the troughs the major GCs leave, else over the whole
 * window or its newer half (a leak that started inside it), after any one-off step.
 */
export function judgeHeapFloor (input: HeapFloorInput, thresholds: ResolvedTrendThresholds): HeapJudgement {
  const { now, majorsInWindow } = input
  const windowFit = fitSeries(input.points)
  const points = afterStep(input.points, windowFit)
  const whole = points === input.points ? windowFit : fitSeries(points)
  const newerPoints = points.filter((p) => p.t >= now - thresholds.windowMs / 2)
  const newer = fitSeries(newerPoints)
  const trend: HeapTrend = { ...whole.trend, garbageBytesPerMinute: input.garbagePerMinute, majorGcs: majorsInWindow.length, recent: false }
  const judgement: HeapJudgement = { trend, whole: windowFit.trend, rising: false, excessPerMinute: 0, refutedBy: null }
  if (whole.fit === null) return judgement

  const troughs = troughsRise(input.majorBeforeWindow, majorsInWindow, thresholds)
  if (troughs !== null) {
    Object.assign(trend, troughs.trend)
    return { trend, whole: windowFit.trend, rising: true, excessPerMinute: troughs.fit!.slopePerMinute, refutedBy: null }
  }
  const candidates: Array<[Fitted, boolean]> = [[whole, false]]
  // Right after a major GC the floor climbs fast for a few seconds (the young generation refills
  // and its survivors are promoted): a newer half holding a major GC is judged with the whole
  // window, unless that major GC left more than the one before it.
  const newerHasMajorGc = majorsInWindow.some((p) => p.t >= now - thresholds.windowMs / 2)
  const newerSuffices = newer.fit !== null && newerPoints.length >= thresholds.minSamples && newer.trend.spanMs >= thresholds.minSpanMs / 2
  if (newerSuffices && (!newerHasMajorGc || input.troughsRising)) candidates.push([newer, true])
  // Between major GCs the floor is smooth (its noise is only when scavenges fall): measured, a
  // leak's floor has 95-100% of its sample pairs agreeing, the climb after a major GC 82-85%.
  // Before a full GC cycle has been seen, the garbage rate is unknown: demand twice the rise
  // (measured: steady traffic's first cycle after start-up rose 4.3-5.3% a minute, a leak 20%).
  const floorThresholds = {
    ...thresholds,
    minConfidence: (1 + thresholds.minConfidence) / 2,
    minRelativeGrowth: input.garbagePerMinute === null ? 2 * thresholds.minRelativeGrowth : thresholds.minRelativeGrowth
  }
  for (const [candidate, recent] of candidates) {
    if (candidate.fit === null) continue
    const fit = candidate.fit
    // After a step, what follows it must still span half the minimum to show a trend.
    if (candidate.trend.spanMs < thresholds.minSpanMs / 2) continue
    const excess = fit.slopePerMinute
    if (!rises({ trend: candidate.trend, slopePerMinute: excess, level: Math.max(input.level, fit.intercept) }, floorThresholds)) continue
    const refutedBy = refutingGc(fit, candidate.trend, majorsInWindow)
    if (refutedBy !== null) {
      judgement.refutedBy = refutedBy
      continue
    }
    Object.assign(trend, candidate.trend, { recent, relativeGrowth: excess * candidate.trend.spanMs / 60_000 / Math.max(input.level, fit.intercept, 1) })
    return { trend, whole: windowFit.trend, rising: true, excessPerMinute: excess, refutedBy: null }
  }
  return judgement
}

/**
 * The garbage discount makes the heap fall while the floor as measured climbs since the last
 * major GC: the rate learned from the last cycle overshoots this one (one-off garbage in it, such
 * as the start-up's), and a leak may hide beneath it. Measured live on Node 24: a leak climbing
 * 3.6 MiB/min since a major GC read -3 MiB/min once 7.9 MiB/min of "garbage" was discounted, and
 * "steady" for 19 s. Only the next major GC can tell.
 */
export function discountOvershoots (corrected: HeapTrend, points: readonly TimedValue[], lastMajor: TimedValue | null, thresholds: ResolvedTrendThresholds): boolean {
  if (corrected.garbageBytesPerMinute === null || corrected.slopeBytesPerMinute === null || lastMajor === null) return false
  const falls = -corrected.slopeBytesPerMinute >= thresholds.minSlopeBytesPerMinute &&
    -corrected.relativeGrowth! >= thresholds.minRelativeGrowth && corrected.confidence! >= thresholds.minConfidence
  const since = fitSeries(points.filter((p) => p.t >= lastMajor.t))
  return falls && since.fit !== null && since.fit.slopePerMinute >= thresholds.minSlopeBytesPerMinute && since.trend.confidence! >= thresholds.minConfidence
}

/**
 * The floor, garbage discounted, rises fast and far enough, but too few of its sample pairs agree
 * to call it a leak: noisy, not flat. Measured live on Node 20: a leak read "steady" at +11 MiB/min,
 * +19% over 30 s, 62% of pairs agreeing, while its first major GCs ran.
 */
export function risesUnevenly (corrected: HeapTrend, thresholds: ResolvedTrendThresholds): boolean {
  return corrected.slopeBytesPerMinute !== null && corrected.slopeBytesPerMinute >= thresholds.minSlopeBytesPerMinute &&
    corrected.relativeGrowth! >= thresholds.minRelativeGrowth
}

const MIN_SAMPLES_SINCE_MAJOR = 4
const GARBAGE_VARIATION = 0.1

/**
 * The floor as measured has risen since the last major GC, faster than the garbage the cycle
 * before it promoted: nothing has refuted that rise yet (a major GC refutes only what came before
 * it), and the garbage rate learned from one cycle may not hold for the next. Measured live on
 * Node 24: a leak's floor climbed 12 MB/min for 57 s after the only major GC of its load, the
 * cycle before had promoted 9.9 MB/min of start-up garbage, and the verdict read "steady".
 */
export function floorOutrunsGarbage (points: readonly TimedValue[], lastMajor: TimedValue | null, garbagePerMinute: number | null, thresholds: ResolvedTrendThresholds): SeriesTrend | null {
  if (lastMajor === null) return null
  const since = fitSeries(points.filter((p) => p.t > lastMajor.t))
  // Fewer samples than a verdict needs will do to withhold "steady": on Node 24 a scavenge (and
  // so a floor sample) can come only every 4-8 s.
  if (since.fit === null || since.trend.samples < MIN_SAMPLES_SINCE_MAJOR || since.trend.spanMs < thresholds.minSpanMs / 2) return null
  const garbage = garbagePerMinute ?? 0
  // Garbage promoted varies from cycle to cycle (by ±7% in verdict.test.ts's simulated traffic):
  // a rise within a tenth of the last cycle's rate is that cycle's garbage again.
  const beyondGarbage = since.fit.slopePerMinute - garbage
  return fitRises(since, thresholds) && beyondGarbage >= Math.max(thresholds.minSlopeBytesPerMinute, GARBAGE_VARIATION * garbage) ? since.trend : null
}

/** The floor as measured, garbage included, rising over the window. */
export function floorRisesRaw (points: readonly TimedValue[], thresholds: ResolvedTrendThresholds): boolean {
  return fitRises(fitSeries(points), thresholds)
}

/**
 * The latest major GC, past the first quarter of the fitted span, that reclaimed more than half
 * of the rise fitted up to it: the rise was garbage, not a leak.
 */
function refutingGc (fit: SlopeFit, trend: SeriesTrend, majors: readonly TimedValue[]): TimedValue | null {
  const inSpan = majors.filter((p) => p.t >= fit.originMs + trend.spanMs / 4 && p.t <= fit.originMs + trend.spanMs)
  const latest = inSpan.at(-1)
  if (latest === undefined) return null
  return latest.v <= fit.intercept + fit.slopePerMs * (latest.t - fit.originMs) / 2 ? latest : null
}
