import type { TimedValue } from '../types/trend.js'

const MS_PER_MINUTE = 60_000

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
   * n(n−1)/2 slopes (1,770 at 60 points, 7,140 at 120), and the verdict fits up to eleven series
   * at every sample. With a full 10-minute window of 5 s samples, run as the plugin runs it (one
   * judgement every 5 s, unoptimised), a judgement took 6–12 ms at 120 points with sorted slopes
   * and 0.6–1.9 ms at 60 with selection (0.24–0.31 ms once optimised, in a loop). The backtest's
   * verdicts on the ten recorded series (240 s window, 2 s samples: 120 points) were the same at
   * 60 and at 120.
   * @defaultValue `60`
   */
  maxPoints?: number
}

/**
 * Theil–Sen estimator: the median of the slopes between every pair of points. Up to ~29% of the
 * points can be arbitrary outliers without moving it, unlike least squares. Points may come in
 * any order. Returns `null` when fewer than two points with distinct timestamps remain.
 */
export function theilSen (points: readonly TimedValue[], options: TheilSenOptions = {}): SlopeFit | null {
  const maxPoints = Math.max(2, options.maxPoints ?? 60)
  const { t, v } = evenlySpaced(inTimeOrder(finitePoints(points)), maxPoints)
  const slopes = pairwiseSlopes(t, v)
  if (slopes.length === 0) return null

  const slopePerMs = median(slopes)
  const originMs = t[0]!
  const residuals = new Float64Array(v.length)
  for (let i = 0; i < v.length; i++) residuals[i] = v[i]! - slopePerMs * (t[i]! - originMs)
  return {
    slopePerMs,
    slopePerMinute: slopePerMs * MS_PER_MINUTE,
    intercept: median(residuals),
    originMs,
    confidence: signAgreement(slopes, Math.sign(slopePerMs)),
    points: t.length
  }
}

// Plain loops, no per-element callbacks: a judgement runs once every 5 s, too rarely for V8 to
// optimise it, and the callbacks of filter/map/from made it 4 times slower than once optimised.

function finitePoints (points: readonly TimedValue[]): readonly TimedValue[] {
  let finite = 0
  for (let i = 0; i < points.length; i++) if (Number.isFinite(points[i]!.t) && Number.isFinite(points[i]!.v)) finite++
  if (finite === points.length) return points
  const kept: TimedValue[] = []
  for (let i = 0; i < points.length; i++) if (Number.isFinite(points[i]!.t) && Number.isFinite(points[i]!.v)) kept.push(points[i]!)
  return kept
}

/** The points sorted by time: the sampler's series already are, and are not copied. */
function inTimeOrder (points: readonly TimedValue[]): readonly TimedValue[] {
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.t < points[i - 1]!.t) return [...points].sort((a, b) => a.t - b.t)
  }
  return points
}

/** At most `size` points, evenly spaced in the sorted series, as typed arrays of times and values. */
function evenlySpaced (points: readonly TimedValue[], size: number): { t: Float64Array, v: Float64Array } {
  const count = Math.min(points.length, size)
  const step = count > 1 ? (points.length - 1) / (count - 1) : 0
  const t = new Float64Array(count)
  const v = new Float64Array(count)
  for (let k = 0; k < count; k++) {
    const point = points[points.length <= size ? k : Math.round(k * step)]!
    t[k] = point.t
    v[k] = point.v
  }
  return { t, v }
}

// Reused by every fit (7,140 slopes of 120 points are 57 KB): fits run one at a time.
let scratch = new Float64Array(7140)

/** Slopes between every pair with distinct timestamps, in a shared typed array (no object per pair). */
function pairwiseSlopes (t: Float64Array, v: Float64Array): Float64Array {
  const n = t.length
  const pairs = (n * (n - 1)) / 2
  if (scratch.length < pairs) scratch = new Float64Array(pairs)
  let count = 0
  for (let i = 0; i < n; i++) {
    const ti = t[i]!
    const vi = v[i]!
    for (let j = i + 1; j < n; j++) {
      const dt = t[j]! - ti
      if (dt !== 0) scratch[count++] = (v[j]! - vi) / dt
    }
  }
  return scratch.subarray(0, count)
}

/**
 * Median of a non-empty array; reorders it in place. By selection, not by sorting: sorting the
 * 7,140 slopes of 120 points took 0.5 ms, nine tenths of a whole fit, and the verdict fits
 * several series every sample.
 */
export function median (values: Float64Array): number {
  const middle = values.length >> 1
  select(values, middle)
  if (values.length % 2 === 1) return values[middle]!
  // everything before `middle` is now <= values[middle]: the other middle value is their maximum
  let below = values[0]!
  for (let i = 1; i < middle; i++) if (values[i]! > below) below = values[i]!
  return (below + values[middle]!) / 2
}

/**
 * Moves the k-th smallest value to index k, smaller or equal ones before it, greater or equal ones
 * after (quickselect, median-of-three pivot). A range that keeps resisting the partitions, which
 * only contrived orders do, is sorted instead, so the worst case stays O(n log n).
 */
function select (values: Float64Array, k: number): void {
  let low = 0
  let high = values.length - 1
  let budget = 2 * Math.ceil(Math.log2(values.length + 1)) + 8
  while (high > low) {
    if (budget-- === 0) {
      values.subarray(low, high + 1).sort()
      return
    }
    const pivot = medianOfThree(values[low]!, values[(low + high) >> 1]!, values[high]!)
    let i = low
    let j = high
    while (i <= j) {
      while (values[i]! < pivot) i++
      while (values[j]! > pivot) j--
      if (i <= j) {
        const swap = values[i]!
        values[i++] = values[j]!
        values[j--] = swap
      }
    }
    // [low, j] <= pivot <= [i, high], and what lies between i and j equals the pivot
    if (k <= j) high = j
    else if (k >= i) low = i
    else return
  }
}

function medianOfThree (a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c))
}

function signAgreement (slopes: Float64Array, sign: number): number {
  let agreeing = 0
  for (let i = 0; i < slopes.length; i++) {
    const slope = slopes[i]!
    if (sign > 0 ? slope > 0 : sign < 0 ? slope < 0 : slope === 0) agreeing++
  }
  return agreeing / slopes.length
}
