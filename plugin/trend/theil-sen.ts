const MS_PER_MINUTE = 60_000

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
  const maxPoints = Math.max(2, options.maxPoints ?? 120)
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
  for (const slope of slopes) {
    if (Math.sign(slope) === sign) agreeing++
  }
  return agreeing / slopes.length
}
