import { InvalidOptionError } from './errors.js'

const MS_PER_MINUTE = 60_000
const KIB = 1024
const MIB = 1024 * KIB

/** A value observed at a time: `t` in milliseconds (the same clock for every point), `v` in any unit. */
export interface TimedValue {
  t: number
  v: number
}

/** A Theil–Sen line: `fit(t) = intercept + slopePerMs × (t − originMs)`. */
export interface SlopeFit {
  /** Median of the pairwise slopes, in units of `v` per millisecond. */
  slopePerMs: number
  /** The same slope in units of `v` per minute. */
  slopePerMinute: number
  /** Value of the fitted line at `originMs` (not at t = 0, where epoch timestamps would lose precision). */
  intercept: number
  /** The earliest timestamp among the points used. */
  originMs: number
  /**
   * Fraction of the pairwise slopes that have the same sign as the median slope (positive,
   * negative or exactly zero), between 0 and 1. For points in general position this is
   * (1 + |Kendall's τ|) / 2: about 0.5 for pure noise, 1 when every pair of points agrees.
   */
  confidence: number
  /** Points the fit used, after dropping non-finite ones and evenly subsampling to `maxPoints`. */
  points: number
}

export interface TheilSenOptions {
  /**
   * Above this many points, an evenly spaced subset of this size is used: the fit computes
   * n(n−1)/2 slopes and sorts them, which blocks the event loop for about 1 ms at 120 points and
   * 45 ms at 720 (measured on Node 20 here). 120 points already give 7140 slopes.
   * @defaultValue `120` (a 10-minute window of 5 s samples)
   */
  maxPoints?: number
}

/**
 * Theil–Sen estimator: the median of the slopes between every pair of points. Up to ~29% of the
 * points can be arbitrary outliers without moving it, unlike least squares. Points may come in
 * any order. Returns `null` when fewer than two points with distinct timestamps remain.
 */
export function theilSen (points: readonly TimedValue[], options: TheilSenOptions = {}): SlopeFit | null {
  const maxPoints = options.maxPoints === undefined ? 120 : options.maxPoints
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new InvalidOptionError(`theilSen maxPoints must be an integer >= 2, got ${maxPoints}`)
  }
  const sorted = points
    .filter((point) => Number.isFinite(point.t) && Number.isFinite(point.v))
    .sort((a, b) => a.t - b.t)
  const used = evenSubset(sorted, maxPoints)
  const slopes = pairwiseSlopes(used)
  if (slopes.length === 0) return null

  const slopePerMs = median(slopes)
  const originMs = used[0]!.t
  const residuals = Float64Array.from(used, (point) => point.v - slopePerMs * (point.t - originMs))
  return {
    slopePerMs,
    slopePerMinute: slopePerMs * MS_PER_MINUTE,
    intercept: median(residuals),
    originMs,
    confidence: signAgreement(slopes, Math.sign(slopePerMs)),
    points: used.length
  }
}

function evenSubset<T> (items: readonly T[], size: number): readonly T[] {
  if (items.length <= size) return items
  const step = (items.length - 1) / (size - 1)
  return Array.from({ length: size }, (_, k) => items[Math.round(k * step)]!)
}

/** Slopes between every pair with distinct timestamps, in a typed array (no object per pair). */
function pairwiseSlopes (points: readonly TimedValue[]): Float64Array {
  const n = points.length
  const slopes = new Float64Array((n * (n - 1)) / 2)
  let count = 0
  for (let i = 0; i < n; i++) {
    const a = points[i]!
    for (let j = i + 1; j < n; j++) {
      const b = points[j]!
      if (b.t !== a.t) slopes[count++] = (b.v - a.v) / (b.t - a.t)
    }
  }
  return slopes.subarray(0, count)
}

/** Median of a non-empty array; sorts it in place (typed arrays sort numerically). */
function median (values: Float64Array): number {
  values.sort()
  const middle = values.length >> 1
  return values.length % 2 === 1
    ? values[middle]!
    : (values[middle - 1]! + values[middle]!) / 2
}

function signAgreement (slopes: Float64Array, sign: number): number {
  let agreeing = 0
  for (const slope of slopes) {
    if (Math.sign(slope) === sign) agreeing++
  }
  return agreeing / slopes.length
}

export type LeakVerdict = 'steady' | 'growing-heap' | 'growing-native' | 'insufficient-data'

/**
 * When the verdict says "growing". Every default assumes the memory sampler's 5 s interval and
 * major GCs at least every minute or so; change `minRssSamples` with the sampling interval.
 */
export interface LeakThresholds {
  /**
   * Only samples from the last `windowMs` count. A rise must also show in both halves of the
   * window, at a comparable pace, to count: a leak grows all the time, while a cache filling once
   * (or the RSS jump a heap snapshot leaves behind) rises in one part of it only.
   * @defaultValue `600000` (10 minutes: 120 RSS samples at 5 s; long enough that a leak of a few
   * hundred KiB per minute stands out of the GC noise, short enough to see a leak started by a deploy)
   */
  windowMs?: number
  /**
   * The samples of each series must span at least this long, else `insufficient-data`.
   * @defaultValue `0.75 × windowMs` (7.5 minutes: tolerates a slow first major GC and missed ticks)
   */
  minSpanMs?: number
  /**
   * Fewest heap-after-major-GC samples in the window. Major GCs are irregular (one every few
   * seconds under load, a few per minute when quiet): with 8 points, a confidence of 0.8 means at
   * least 23 of the 28 pairs agree on a rise, which pure noise does 1.6% of the time.
   * @defaultValue `8`
   */
  minPostGcSamples?: number
  /**
   * Fewest RSS samples in the window.
   * @defaultValue `60` (half of the 120 that a 5 s sampler takes in 10 minutes)
   */
  minRssSamples?: number
  /**
   * Slowest growth worth reporting, in bytes per minute. For `growing-native`, the RSS growth
   * left after subtracting the post-GC heap's growth must also reach it.
   * @defaultValue `262144` (256 KiB/min = 15 MiB/hour, 360 MiB/day: slower than that rarely
   * kills a process between two deploys)
   */
  minSlopeBytesPerMinute?: number
  /**
   * Smallest growth over the samples' span relative to the fitted level at its start
   * (0.02 = 2%), so that a statistically clear but tiny rise (caches and compiled code warming
   * up) is not called a leak.
   * @defaultValue `0.02`
   */
  minRelativeGrowth?: number
  /**
   * Smallest {@link SlopeFit.confidence}. Pure noise gives about 0.5 (±0.03 for 120 samples). A
   * single step in the middle of the window gets about 0.75 and sometimes 0.8 (every pair that
   * straddles it agrees), hence the test on both halves of the window as well.
   * @defaultValue `0.8`
   */
  minConfidence?: number
}

export type ResolvedLeakThresholds = Required<LeakThresholds>

/** What the trend of one series looked like over the window. `null` where it could not be fitted. */
export interface SeriesTrend {
  slopeBytesPerMinute: number | null
  confidence: number | null
  /** Growth over `spanMs` relative to the fitted level at its start (0.1 = +10%). */
  relativeGrowth: number | null
  /** Slope over the older half of the span: a leak rises in both halves, a one-off fill in one. */
  olderHalfSlopeBytesPerMinute: number | null
  /** Slope over the newer half of the span. */
  newerHalfSlopeBytesPerMinute: number | null
  /** Samples inside the window. */
  samples: number
  /** Time between the first and last sample inside the window. */
  spanMs: number
  windowMs: number
}

export interface LeakInput {
  /** End of the window, on the samples' clock (usually `Date.now()`). Later samples are ignored. */
  now: number
  /** Heap used right after each major (mark-sweep-compact) GC: what survives, hence what leaks. */
  postGcHeap: readonly TimedValue[]
  /** Resident set size samples of the process. */
  rss: readonly TimedValue[]
}

export interface LeakReport {
  verdict: LeakVerdict
  /** When the current verdict was first given (ISO 8601), `null` while `steady`. */
  since: string | null
  /** One sentence with the figures behind the verdict. */
  reason: string
  postGcHeap: SeriesTrend
  rss: SeriesTrend
}

/** Checks the thresholds and fills in the defaults; never mutates its argument. */
export function resolveLeakThresholds (thresholds: LeakThresholds = {}): ResolvedLeakThresholds {
  const windowMs = positive('windowMs', thresholds.windowMs, 600_000)
  const resolved: ResolvedLeakThresholds = {
    windowMs,
    minSpanMs: positive('minSpanMs', thresholds.minSpanMs, 0.75 * windowMs),
    minPostGcSamples: atLeastTwo('minPostGcSamples', thresholds.minPostGcSamples, 8),
    minRssSamples: atLeastTwo('minRssSamples', thresholds.minRssSamples, 60),
    minSlopeBytesPerMinute: positive('minSlopeBytesPerMinute', thresholds.minSlopeBytesPerMinute, 256 * KIB),
    minRelativeGrowth: positive('minRelativeGrowth', thresholds.minRelativeGrowth, 0.02),
    minConfidence: positive('minConfidence', thresholds.minConfidence, 0.8)
  }
  if (resolved.minSpanMs > windowMs) {
    throw new InvalidOptionError(`leak thresholds: minSpanMs (${resolved.minSpanMs}) cannot exceed windowMs (${windowMs})`)
  }
  if (resolved.minConfidence <= 0.5 || resolved.minConfidence > 1) {
    throw new InvalidOptionError(`leak thresholds: minConfidence must be in (0.5, 1] (0.5 is what noise gives), got ${resolved.minConfidence}`)
  }
  return resolved
}

function positive (name: string, value: number | undefined, defaultValue: number): number {
  if (value === undefined) return defaultValue
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`leak thresholds: ${name} must be a positive finite number, got ${String(value)}`)
  }
  return value
}

function atLeastTwo (name: string, value: number | undefined, defaultValue: number): number {
  if (value === undefined) return defaultValue
  if (!Number.isInteger(value) || value < 2) {
    throw new InvalidOptionError(`leak thresholds: ${name} must be an integer >= 2, got ${String(value)}`)
  }
  return value
}

/**
 * Judges whether memory leaks, from the samples of the last `windowMs` before `input.now`.
 * Pure: pass the previous report to carry `since` over (or use {@link createLeakDetector}).
 *
 * - `growing-heap`: the post-GC heap rises (slope, relative growth and confidence all at or
 *   above their thresholds, and each half of the window rising faster than the slope threshold,
 *   at most 4 times faster than the other): JavaScript objects stay reachable.
 * - `growing-native`: the post-GC heap does not, but RSS does, by more than the heap explains:
 *   memory grows outside the V8 heap (Buffers, native addons, fragmentation).
 * - `insufficient-data`: too few samples, or too short a span, to tell.
 */
export function leakVerdict (input: LeakInput, thresholds: LeakThresholds = {}, previous: LeakReport | null = null): LeakReport {
  const resolved = resolveLeakThresholds(thresholds)
  const heap = describeSeries(input.postGcHeap, input.now, resolved)
  const rss = describeSeries(input.rss, input.now, resolved)
  const { verdict, reason } = judge(heap, rss, resolved)
  return {
    verdict,
    since: sinceFor(verdict, input.now, previous),
    reason,
    postGcHeap: heap.trend,
    rss: rss.trend
  }
}

interface DescribedSeries {
  trend: SeriesTrend
  /** Samples in the smaller half of the span. */
  halfSamples: number
  /** The slope per minute, 0 when it could not be fitted. */
  slope: number
}

function describeSeries (points: readonly TimedValue[], now: number, thresholds: ResolvedLeakThresholds): DescribedSeries {
  const start = now - thresholds.windowMs
  const inWindow = points.filter((point) => point.t >= start && point.t <= now && Number.isFinite(point.v))
  const trend: SeriesTrend = {
    slopeBytesPerMinute: null,
    confidence: null,
    relativeGrowth: null,
    olderHalfSlopeBytesPerMinute: null,
    newerHalfSlopeBytesPerMinute: null,
    samples: inWindow.length,
    spanMs: 0,
    windowMs: thresholds.windowMs
  }
  const fit = theilSen(inWindow)
  if (fit === null) return { trend, halfSamples: 0, slope: 0 }

  trend.spanMs = inWindow.reduce((latest, point) => Math.max(latest, point.t), fit.originMs) - fit.originMs
  const middle = fit.originMs + trend.spanMs / 2
  trend.slopeBytesPerMinute = fit.slopePerMinute
  trend.confidence = fit.confidence
  // At least 1 byte, so that a level of 0 cannot divide by zero.
  trend.relativeGrowth = (fit.slopePerMs * trend.spanMs) / Math.max(fit.intercept, 1)
  const older = inWindow.filter((point) => point.t < middle)
  const newer = inWindow.filter((point) => point.t >= middle)
  trend.olderHalfSlopeBytesPerMinute = slopePerMinute(older)
  trend.newerHalfSlopeBytesPerMinute = slopePerMinute(newer)
  return { trend, halfSamples: Math.min(older.length, newer.length), slope: fit.slopePerMinute }
}

function slopePerMinute (points: readonly TimedValue[]): number | null {
  const fit = theilSen(points)
  return fit === null ? null : fit.slopePerMinute
}

/**
 * How much faster one half of the window may rise than the other for the rise to count as
 * sustained. A leak follows traffic, which rarely changes fourfold within minutes; a cache
 * filling for a few minutes rises ten times faster or more in the half that holds most of it.
 */
const MAX_PACE_CHANGE = 4

/** Fewest samples in each half of the window for the halves' comparison to mean something. */
const MIN_HALF_SAMPLES = 3

/** `one-off`: the whole window rises, but not each of its halves at a comparable pace. */
type Growth = 'rising' | 'one-off' | 'flat'

/** Only for trends that passed `shortfall`, which have at least two samples, hence a fit. */
function growthOf (trend: SeriesTrend, thresholds: ResolvedLeakThresholds): Growth {
  const risesOverall = trend.slopeBytesPerMinute! >= thresholds.minSlopeBytesPerMinute &&
    trend.relativeGrowth! >= thresholds.minRelativeGrowth &&
    trend.confidence! >= thresholds.minConfidence
  if (!risesOverall) return 'flat'
  const older = trend.olderHalfSlopeBytesPerMinute
  const newer = trend.newerHalfSlopeBytesPerMinute
  if (older === null || newer === null) return 'one-off'
  const slower = Math.min(older, newer)
  const risesThroughout = slower >= thresholds.minSlopeBytesPerMinute && slower * MAX_PACE_CHANGE >= Math.max(older, newer)
  return risesThroughout ? 'rising' : 'one-off'
}

function judge (heap: DescribedSeries, rss: DescribedSeries, thresholds: ResolvedLeakThresholds): { verdict: LeakVerdict, reason: string } {
  const heapShortfall = shortfall('post-GC heap', heap.trend, thresholds.minPostGcSamples, thresholds)
  if (heapShortfall !== null) return { verdict: 'insufficient-data', reason: heapShortfall }
  const heapGrowth = growthOf(heap.trend, thresholds)
  // Telling a leak from a one-off step compares the two halves of the window: with a couple of
  // major GCs in a half (a young heap growing fast gets few), that comparison means nothing.
  if (heapGrowth === 'one-off' && heap.halfSamples < MIN_HALF_SAMPLES) {
    return {
      verdict: 'insufficient-data',
      reason: `the heap after major GCs rises (${describeTrend(heap.trend)}), but with ${heap.halfSamples} major GC(s) in one half of the window a leak cannot be told from a one-off rise yet`
    }
  }
  if (heapGrowth === 'rising') {
    return { verdict: 'growing-heap', reason: `the heap after major GCs keeps rising: ${describeTrend(heap.trend)}` }
  }
  const rssShortfall = shortfall('RSS', rss.trend, thresholds.minRssSamples, thresholds)
  if (rssShortfall !== null) return { verdict: 'insufficient-data', reason: rssShortfall }
  const rssGrowth = growthOf(rss.trend, thresholds)
  const unexplained = rss.slope - Math.max(heap.slope, 0)
  // Native growth only against a flat heap: a heap rising in bursts explains a rising RSS too.
  if (rssGrowth === 'rising' && heapGrowth === 'flat' && unexplained >= thresholds.minSlopeBytesPerMinute) {
    return {
      verdict: 'growing-native',
      reason: `RSS keeps rising (${describeTrend(rss.trend)}) while the heap after major GCs does not (${describeTrend(heap.trend)}): ` +
        `${formatBytes(unexplained)}/min grows outside the V8 heap`
    }
  }
  const rssNote = rssGrowth === 'rising' ? ', which the heap\'s own growth explains' : describeOneOff(rss.trend, rssGrowth)
  return {
    verdict: 'steady',
    reason: `no sustained growth: heap after major GCs ${describeTrend(heap.trend)}${describeOneOff(heap.trend, heapGrowth)}; ` +
      `RSS ${describeTrend(rss.trend)}${rssNote}`
  }
}

function shortfall (label: string, trend: SeriesTrend, minSamples: number, thresholds: ResolvedLeakThresholds): string | null {
  if (trend.samples >= minSamples && trend.spanMs >= thresholds.minSpanMs) return null
  return `${trend.samples} ${label} samples spanning ${formatDuration(trend.spanMs)} in the last ${formatDuration(thresholds.windowMs)}; ` +
    `a verdict needs at least ${minSamples} spanning ${formatDuration(thresholds.minSpanMs)}`
}

/** Only for trends that passed `shortfall`. */
function describeTrend (trend: SeriesTrend): string {
  return `${formatSlope(trend.slopeBytesPerMinute!)}, ${formatPercent(trend.relativeGrowth!)} ` +
    `over ${formatDuration(trend.spanMs)}, ${Math.round(trend.confidence! * 100)}% of sample pairs agree`
}

function describeOneOff (trend: SeriesTrend, growth: Growth): string {
  if (growth !== 'one-off') return ''
  const half = (slope: number | null): string => slope === null ? 'too few samples' : formatSlope(slope)
  return ` but not throughout the window (older half ${half(trend.olderHalfSlopeBytesPerMinute)}, ` +
    `newer half ${half(trend.newerHalfSlopeBytesPerMinute)}): a one-off rise, such as a cache filling, not a leak`
}

function formatSlope (bytesPerMinute: number): string {
  return `${bytesPerMinute < 0 ? '-' : '+'}${formatBytes(Math.abs(bytesPerMinute))}/min`
}

function formatPercent (ratio: number): string {
  return `${ratio < 0 ? '-' : '+'}${(Math.abs(ratio) * 100).toFixed(1)}%`
}

function formatBytes (bytes: number): string {
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`
  return `${(bytes / KIB).toFixed(1)} KiB`
}

function formatDuration (ms: number): string {
  return `${(ms / MS_PER_MINUTE).toFixed(1)} min`
}

function sinceFor (verdict: LeakVerdict, now: number, previous: LeakReport | null): string | null {
  if (verdict === 'steady') return null
  if (previous !== null && previous.verdict === verdict) return previous.since
  return new Date(now).toISOString()
}

export interface LeakDetector {
  /** Judges the samples and remembers since when the verdict has held. */
  assess (input: LeakInput): LeakReport
  /** The last report, `null` before the first call and after `reset()`. */
  readonly current: LeakReport | null
  /** Forgets the history, so the next verdict starts afresh. */
  reset (): void
}

/**
 * A leak verdict that remembers since when it has held. Thresholds are checked here, once, so a
 * bad option fails at registration rather than at the first assessment.
 */
export function createLeakDetector (thresholds: LeakThresholds = {}): LeakDetector {
  const resolved = resolveLeakThresholds(thresholds)
  let current: LeakReport | null = null
  return {
    assess (input) {
      current = leakVerdict(input, resolved, current)
      return current
    },
    get current () {
      return current
    },
    reset () {
      current = null
    }
  }
}
