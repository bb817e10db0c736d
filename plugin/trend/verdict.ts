import { theilSen } from './theil-sen.js'
import type { SlopeFit } from './theil-sen.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { HeapTrend, MemoryLimits, SeriesTrend, TimedValue, TimeToLimit, TrendInput, TrendReport, TrendVerdict } from '../types/trend.js'
import { heapReason, insufficientReason, nativeReason, steadyReason, troughsReason, unconfirmedNativeReason, unconfirmedReason } from './wording.js'

/**
 * A verdict changes only when this many assessments in a row agree: real series cross a
 * threshold for a sample or two (measured: steady traffic at +5.0% for 2 isolated seconds of 300).
 */
const CONFIRMATIONS = 3
/** How long after a major GC the external memory it frees keeps falling. */
const EXTERNAL_RELEASE_MS = 10_000
/** Fewest major GC events in the window for their troughs alone to confirm a leak. */
const MIN_TROUGHS = 3
/** Major GCs closer than this belong to one GC event (V8 often runs two in a row, measured 0.5-1.5 s apart). */
const GC_EVENT_MS = 3000
/**
 * Garbage promotion varies from one GC cycle to the next, and runs fastest right after a major GC
 * (measured on steady traffic: 0.47 MiB/min over one cycle, 0.95 in the minute after it), so an
 * unconfirmed rise of the floor must exceed this multiple of it. Slower leaks are confirmed by the
 * major GCs themselves (see `troughsRise`).
 */
const GARBAGE_VARIATION = 0
/**
 * Memory outside the heap counts as the leak when it grows this many times faster than the
 * heap: a Buffer kept per request also keeps its small JS wrapper (measured: 4 KiB Buffers,
 * external +47 MB/min, heap floor +2.6 MB/min).
 */
const NATIVE_DOMINANCE = 4

interface Fitted {
  trend: SeriesTrend
  fit: SlopeFit | null
}

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
  const garbage = garbageRate(input.heapFloor, majors, input.now)
  // Growth is relative to the heap as measured: the garbage discount can take the corrected level near 0.
  const level = fitSeries(heapPoints).fit?.intercept ?? 0
  const troughsRising = lastTwoTroughsRise(majors, start, thresholds)
  const heap = judgeHeap(withoutGarbage(heapPoints, majors, garbage), majors.filter((p) => p.t >= start), garbage, input.now, thresholds, majors.findLast((p) => p.t < start) ?? null, level, troughsRising !== null)
  const externalPoints = inWindow(input.external)
  const external = fitSeries(externalPoints)
  const rssPoints = inWindow(input.rss)
  const rss = fitSeries(rssPoints)

  let verdict: TrendVerdict
  let reason: string
  let growthPerMinute = 0
  const heapUsedAt = new Map(input.heapUsed.map((p) => [p.t, p.v]))
  const rssBeyondHeap = rssPoints.filter((p) => heapUsedAt.has(p.t)).map((p) => ({ t: p.t, v: p.v - heapUsedAt.get(p.t)! }))
  const native = nativeGrowth(externalPoints, rssBeyondHeap, majors.filter((p) => p.t >= start), heap, thresholds)
  if (heap.whole.samples < thresholds.minSamples || heap.whole.spanMs < thresholds.minSpanMs) {
    verdict = 'insufficient-data'
    reason = insufficientReason(heap.whole, thresholds)
  } else if (native?.confirmed === true) {
    verdict = 'growing-native'
    growthPerMinute = native.bytesPerMinute
    reason = nativeReason(native.bytesPerMinute, external.trend, rss.trend, heap.trend)
  } else if (native !== null) {
    verdict = 'insufficient-data'
    reason = unconfirmedNativeReason(native.bytesPerMinute, heap.trend)
  } else if (heap.rising) {
    verdict = 'growing-heap'
    growthPerMinute = heap.excessPerMinute
    reason = heapReason(heap.trend, heap.excessPerMinute)
  } else if (troughsRising !== null) {
    // Two troughs cannot tell a leak from a cache that filled between them, but "steady" would
    // deny what the last major GC showed.
    verdict = 'insufficient-data'
    reason = troughsReason(troughsRising)
  } else if (heap.refutedBy === null && risesRaw(heapPoints, thresholds)) {
    // Rising, but no faster than garbage piled up during the last GC cycle: only the next major
    // GC can tell a leak from garbage, and "steady" would be a guess.
    verdict = 'insufficient-data'
    reason = unconfirmedReason(heap.trend)
  } else {
    verdict = 'steady'
    reason = steadyReason(heap.trend, heap.refutedBy, external.trend, rss.trend)
  }
  const latestHeap = heapPoints.at(-1)?.v ?? null
  const continues = previous !== null && previous.latest.verdict === verdict
  const latest = {
    verdict,
    assessments: continues ? previous.latest.assessments + 1 : 1,
    since: continues ? previous.latest.since : new Date(input.now).toISOString()
  }
  let held = false
  const grewAt = previous?.verdict === 'growing-heap' || previous?.verdict === 'growing-native' ? new Date(input.now).toISOString() : previous?.grewAt ?? null
  const sinceGrowthMs = grewAt === null ? Infinity : input.now - Date.parse(grewAt)
  if (verdict === 'steady' && sinceGrowthMs < thresholds.windowMs) {
    // A leak once reported is cleared by a whole window without growth, not by one GC cycle that
    // looked flat: until then it is undecided.
    verdict = 'insufficient-data'
    reason = `growing until ${grewAt}; ${Math.round(sinceGrowthMs / 1000)} s of the ${thresholds.windowMs / 1000} s without growth it takes to call it steady (${reason})`
  } else if (previous !== null && verdict !== previous.verdict && latest.assessments < CONFIRMATIONS) {
    reason = `still ${previous.verdict}: ${verdict} for ${latest.assessments} of the ${CONFIRMATIONS} assessments in a row it takes to change (${reason})`
    verdict = previous.verdict
    held = true
  }
  return {
    verdict,
    since: sinceFor(verdict, input.now, previous),
    reason,
    latest,
    grewAt,
    windowMs: thresholds.windowMs,
    heap: heap.trend,
    external: external.trend,
    rss: rss.trend,
    timeToLimit: held
      ? previous!.timeToLimit
      : verdict === 'growing-heap' || verdict === 'growing-native'
        ? timeToLimit(verdict, growthPerMinute, latestHeap, rss.trend.slopeBytesPerMinute, input.limits)
        : null
  }
}

function fitSeries (points: readonly TimedValue[]): Fitted {
  const trend: SeriesTrend = { slopeBytesPerMinute: null, confidence: null, relativeGrowth: null, samples: points.length, spanMs: 0 }
  const fit = theilSen(points)
  if (fit === null) return { trend, fit }
  trend.spanMs = points.reduce((latest, p) => Math.max(latest, p.t), fit.originMs) - fit.originMs
  trend.slopeBytesPerMinute = fit.slopePerMinute
  trend.confidence = fit.confidence
  // At least 1 byte, so that a level of 0 cannot divide by zero.
  trend.relativeGrowth = (fit.slopePerMs * trend.spanMs) / Math.max(fit.intercept, 1)
  return { trend, fit }
}

function rises (trend: SeriesTrend, slopePerMinute: number, thresholds: ResolvedTrendThresholds, level: number, minSlope = thresholds.minSlopeBytesPerMinute): boolean {
  const relative = slopePerMinute * trend.spanMs / 60_000 / Math.max(level, 1)
  return slopePerMinute >= minSlope &&
    relative >= thresholds.minRelativeGrowth &&
    trend.confidence! >= thresholds.minConfidence
}

/** The last major GC event in the window and the one before it (possibly before the window), when the later left more behind. */
function lastTwoTroughsRise (majors: readonly TimedValue[], start: number, thresholds: ResolvedTrendThresholds): [TimedValue, TimedValue] | null {
  // Coarser events than elsewhere: V8 sometimes runs a second major GC a few seconds after the first.
  const troughs = events(majors, 10_000)
  const later = troughs.at(-1)
  const earlier = troughs.at(-2)
  if (later === undefined || earlier === undefined || later.t < start) return null
  const perMinute = (later.v - earlier.v) / (later.t - earlier.t) * 60_000
  const relative = (later.v - earlier.v) / Math.max(earlier.v, 1)
  return perMinute >= thresholds.minSlopeBytesPerMinute && relative >= thresholds.minRelativeGrowth ? [earlier, later] : null
}

/** The floor as measured, garbage included, rising over the window. */
function risesRaw (points: readonly TimedValue[], thresholds: ResolvedTrendThresholds): boolean {
  const fitted = fitSeries(points)
  return fitted.fit !== null && rises(fitted.trend, fitted.fit.slopePerMinute, thresholds, fitted.fit.intercept)
}

interface HeapJudgement {
  trend: HeapTrend
  /** The fit over the whole window, whichever fit the verdict rests on. */
  whole: SeriesTrend
  rising: boolean
  excessPerMinute: number
  /** The major GC that took the heap back to where the rise started, if one did. */
  refutedBy: TimedValue | null
}

function judgeHeap (
  allPoints: readonly TimedValue[],
  majorsInWindow: readonly TimedValue[],
  garbagePerMinute: number | null,
  now: number,
  thresholds: ResolvedTrendThresholds,
  majorBeforeWindow: TimedValue | null,
  level: number,
  troughsRising: boolean
): HeapJudgement {
  const windowFit = fitSeries(allPoints)
  const points = afterStep(allPoints, windowFit)
  const whole = points === allPoints ? windowFit : fitSeries(points)
  const newerPoints = points.filter((p) => p.t >= now - thresholds.windowMs / 2)
  const newer = fitSeries(newerPoints)
  const trend: HeapTrend = { ...whole.trend, garbageBytesPerMinute: garbagePerMinute, majorGcs: majorsInWindow.length, recent: false }
  const judgement: HeapJudgement = { trend, whole: windowFit.trend, rising: false, excessPerMinute: 0, refutedBy: null }
  if (whole.fit === null) return judgement

  const troughs = troughsRise(majorBeforeWindow, majorsInWindow, thresholds)
  if (troughs !== null) {
    Object.assign(trend, troughs.trend)
    return { trend, whole: windowFit.trend, rising: true, excessPerMinute: troughs.fit!.slopePerMinute, refutedBy: null }
  }
  const candidates: Array<[Fitted, boolean]> = [[whole, false]]
  // Right after a major GC the floor climbs fast for a few seconds (the young generation refills
  // and its survivors are promoted): a newer half holding a major GC is judged with the whole
  // window, unless that major GC left more than the one before it.
  const newerHasMajorGc = majorsInWindow.some((p) => p.t >= now - thresholds.windowMs / 2)
  if (newer.fit !== null && (!newerHasMajorGc || troughsRising) && newerPoints.length >= thresholds.minSamples && newer.trend.spanMs >= thresholds.minSpanMs / 2) {
    candidates.push([newer, true])
  }
  for (const [candidate, recent] of candidates) {
    if (candidate.fit === null) continue
    const fit = candidate.fit
    // After a step, what follows it must still span half the minimum to show a trend.
    if (candidate.trend.spanMs < thresholds.minSpanMs / 2) continue
    const excess = fit.slopePerMinute
    const minSlope = Math.max(thresholds.minSlopeBytesPerMinute, GARBAGE_VARIATION * (garbagePerMinute ?? 0))
    // Between major GCs the floor is smooth (its noise is only when scavenges fall): measured, a
    // leak's floor has 95-100% of its sample pairs agreeing, the climb after a major GC 82-85%.
    // Before a full GC cycle has been seen, the garbage rate is unknown: demand twice the rise
    // (measured: steady traffic's first cycle after start-up rose 4.3-5.3% a minute, a leak 20%).
    const floorThresholds = {
      ...thresholds,
      minConfidence: (1 + thresholds.minConfidence) / 2,
      minRelativeGrowth: garbagePerMinute === null ? 2 * thresholds.minRelativeGrowth : thresholds.minRelativeGrowth
    }
    if (!rises(candidate.trend, excess, floorThresholds, Math.max(level, fit.intercept), minSlope)) continue
    const refutedBy = refutingGc(fit, candidate.trend, majorsInWindow)
    if (refutedBy !== null) {
      judgement.refutedBy = refutedBy
      continue
    }
    Object.assign(trend, candidate.trend, { recent, relativeGrowth: excess * candidate.trend.spanMs / 60_000 / Math.max(level, fit.intercept, 1) })
    return { trend, whole: windowFit.trend, rising: true, excessPerMinute: excess, refutedBy: null }
  }
  return judgement
}

/**
 * The heap right after each major GC event (the lowest of a burst), fitted: what survives a full
 * collection is live, so a rise there is a leak whatever the garbage. Needs three events spanning
 * half the window: those in the window, and the last one before it as an anchor (a leak with a
 * major GC every 25-50 s gets two in a 60 s window). The anchor alone cannot make a flat window
 * rise: three of its four pairs would have to agree.
 */
function troughsRise (anchor: TimedValue | null, majors: readonly TimedValue[], thresholds: ResolvedTrendThresholds): Fitted | null {
  const troughs = events(anchor === null ? majors : [anchor, ...majors])
  // Between two of three troughs a leak climbs about half its rise; a one-off step nearly all of it.
  const sinceStep = afterStep(troughs, fitSeries(troughs), 0.75)
  if (sinceStep.length < MIN_TROUGHS) return null
  const fitted = fitSeries(sinceStep)
  if (fitted.fit === null || fitted.trend.spanMs < thresholds.minSpanMs / 2) return null
  return rises(fitted.trend, fitted.fit.slopePerMinute, thresholds, fitted.fit.intercept) ? fitted : null
}

/**
 * The points after a one-off step (a cache warmed at once, a deploy's first requests): when one
 * jump between two samples exceeds half the fitted rise of the window, the rise is that jump, and
 * only what follows it can show a leak. (A leak sampled every few seconds climbs in small steps.)
 */
function afterStep (points: readonly TimedValue[], fitted: Fitted, share = 0.5): readonly TimedValue[] {
  if (fitted.fit === null) return points
  const rise = fitted.fit.slopePerMs * fitted.trend.spanMs
  let jumpAt = -1
  let jump = 0
  for (let i = 1; i < points.length; i++) {
    const delta = points[i]!.v - points[i - 1]!.v
    if (delta > jump) {
      jump = delta
      jumpAt = i
    }
  }
  return rise > 0 && jump > rise * share ? points.slice(jumpAt) : points
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

/**
 * The floor minus the garbage promoted since the last major GC before each point, at the rate
 * learned from the last full cycle: an estimate of the live heap that does not saw-tooth.
 */
function withoutGarbage (points: readonly TimedValue[], majors: readonly TimedValue[], garbagePerMinute: number | null): TimedValue[] {
  if (garbagePerMinute === null || garbagePerMinute === 0) return [...points]
  let k = -1
  return points.map((p) => {
    while (k + 1 < majors.length && majors[k + 1]!.t <= p.t) k++
    return k < 0 ? p : { t: p.t, v: p.v - garbagePerMinute * (p.t - majors[k]!.t) / 60_000 }
  })
}

/**
 * Bytes per minute of garbage promoted during the last full GC cycle: the highest floor between
 * the two last major GC events minus what the last one left, over the cycle's length.
 */
function garbageRate (floor: readonly TimedValue[], majors: readonly TimedValue[], now: number): number | null {
  const last = majors.at(-1)
  if (last === undefined) return null
  let eventLow = last.v
  let k = majors.length - 1
  while (k > 0 && last.t - majors[k - 1]!.t < GC_EVENT_MS) eventLow = Math.min(eventLow, majors[--k]!.v)
  // Before the first major GC we know of, the cycle started at the first floor sample at the latest.
  const cycleStart = majors[k - 1] ?? floor.find((p) => p.t < majors[k]!.t)
  if (cycleStart === undefined) return null
  let peak = -Infinity
  for (const p of floor) {
    if (p.t > cycleStart.t && p.t < majors[k]!.t && p.t <= now && p.v > peak) peak = p.v
  }
  if (!Number.isFinite(peak)) return null
  return Math.max(0, peak - eventLow) / (majors[k]!.t - cycleStart.t) * 60_000
}

/**
 * RSS moves in steps (V8 committing pages back after a major GC shrank the heap, what a heap
 * snapshot leaves behind: measured +15 MiB/min over a minute, 80% of pairs agreeing): RSS counts
 * only when each half of the window rises on its own.
 */
function risesInBothHalves (points: readonly TimedValue[], thresholds: ResolvedTrendThresholds): boolean {
  if (points.length < 2) return false
  const middle = (points[0]!.t + points.at(-1)!.t) / 2
  return [points.filter((p) => p.t < middle), points.filter((p) => p.t >= middle)].every((half) => {
    const fitted = fitSeries(half)
    return fitted.fit !== null && rises(fitted.trend, fitted.fit.slopePerMinute, thresholds, fitted.fit.intercept)
  })
}

interface NativeGrowth {
  bytesPerMinute: number
  /** Seen right after major GCs (what they could not free), not only between them. */
  confirmed: boolean
}

/**
 * Growth of memory outside the heap (`external`, or RSS beyond heapUsed) much faster than the
 * heap's own, else null. Only `external` can confirm it (see below). Both follow the heap's sawtooth: a Buffer is freed when the major GC
 * collects its JS object (measured on the demo's fixed endpoint: external 21 → 40 MB between major
 * GCs, back after each), and RSS keeps the pages of the heap's peak. So growth counts as confirmed
 * when it shows right after major GCs, like the heap's troughs; a rise in each half of the window
 * without that is only a suspicion.
 */
function nativeGrowth (externalPoints: readonly TimedValue[], rssBeyondHeap: readonly TimedValue[], majors: readonly TimedValue[], heap: HeapJudgement, thresholds: ResolvedTrendThresholds): NativeGrowth | null {
  const heapSlope = Math.max(heap.trend.slopeBytesPerMinute ?? 0, 0)
  const gcs = events(majors)
  let suspected: NativeGrowth | null = null
  for (const points of [externalPoints, rssBeyondHeap]) {
    const afterGcs = lowestAfterEachGc(points, gcs)
    // RSS beyond heapUsed also rises after GCs while V8 grows the heap's reservation (measured on the
    // demo's fixed endpoint after a snapshot: +32 MB/min for a minute): RSS alone is only a suspicion.
    const confirmed = points === externalPoints && afterGcs.length >= MIN_TROUGHS && afterGcs.at(-1)!.t - afterGcs[0]!.t >= thresholds.minSpanMs / 2
    const series = confirmed ? fitSeries(afterGcs) : risesInBothHalves(points, thresholds) ? fitSeries(points) : null
    if (series === null || series.fit === null) continue
    const slope = series.fit.slopePerMinute
    if (slope < NATIVE_DOMINANCE * heapSlope || !rises(series.trend, slope - heapSlope, thresholds, series.fit.intercept)) continue
    if (confirmed) return { bytesPerMinute: slope, confirmed }
    suspected ??= { bytesPerMinute: slope, confirmed }
  }
  return suspected
}

/** Per major GC event, the lowest value in the seconds after it (external memory is released by weak callbacks, measured up to 10 s later). */
function lowestAfterEachGc (points: readonly TimedValue[], gcs: readonly TimedValue[]): TimedValue[] {
  const lows: TimedValue[] = []
  for (const [i, gc] of gcs.entries()) {
    const until = Math.min(gc.t + EXTERNAL_RELEASE_MS, gcs[i + 1]?.t ?? Infinity)
    const near = points.filter((p) => p.t >= gc.t && p.t < until)
    if (near.length > 0) lows.push({ t: gc.t, v: Math.min(...near.map((p) => p.v)) })
  }
  return lows
}

/** Major GCs grouped into events (V8 often runs two in a row), each at its first GC's time with the lowest heap. */
function events (majors: readonly TimedValue[], gapMs = GC_EVENT_MS): TimedValue[] {
  const grouped: TimedValue[] = []
  for (const p of majors) {
    const last = grouped.at(-1)
    if (last !== undefined && p.t - last.t < gapMs) last.v = Math.min(last.v, p.v)
    else grouped.push({ ...p })
  }
  return grouped
}

function timeToLimit (verdict: TrendVerdict, perMinute: number, heapNow: number | null, rssPerMinute: number | null, limits: MemoryLimits | null): TimeToLimit | null {
  if (limits === null || !(perMinute > 0)) return null
  const candidates: TimeToLimit[] = []
  if (verdict === 'growing-heap' && heapNow !== null) {
    const bytesLeft = Math.max(0, limits.heapLimitBytes - heapNow)
    candidates.push({ limit: 'heap', bytesLeft, bytesPerMinute: perMinute, seconds: bytesLeft / perMinute * 60 })
  }
  if (limits.containerLimitBytes !== null && limits.containerUsageBytes !== null) {
    // The container fills at least as fast as the leak, faster when RSS follows with more.
    const rate = Math.max(perMinute, rssPerMinute ?? 0)
    const bytesLeft = Math.max(0, limits.containerLimitBytes - limits.containerUsageBytes)
    candidates.push({ limit: 'container', bytesLeft, bytesPerMinute: rate, seconds: bytesLeft / rate * 60 })
  }
  if (candidates.length === 0) return null
  const first = candidates.reduce((a, b) => (b.seconds < a.seconds ? b : a))
  return { ...first, seconds: Math.round(first.seconds), bytesPerMinute: Math.round(first.bytesPerMinute) }
}

function sinceFor (verdict: TrendVerdict, now: number, previous: TrendReport | null): string | null {
  if (verdict === 'steady') return null
  if (previous !== null && previous.verdict === verdict) return previous.since
  return new Date(now).toISOString()
}
