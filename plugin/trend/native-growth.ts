import { gcEvents, MIN_TROUGHS } from './gc-events.js'
import { fitRises, fitSeries, rises } from './series-fit.js'
import type { Fitted } from './series-fit.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { TimedValue } from '../types/trend.js'

/** How long after a major GC the external memory it frees keeps falling. */
const EXTERNAL_RELEASE_MS = 10_000
/**
 * Memory outside the heap counts as the leak when it grows this many times faster than the
 * heap: a Buffer kept per request also keeps its small JS wrapper (measured: 4 KiB Buffers,
 * external +47 MB/min, heap floor +2.6 MB/min).
 */
export const NATIVE_DOMINANCE = 4

export interface NativeGrowthInput {
  /** `external` in the window. */
  external: readonly TimedValue[]
  /** Resident memory no counter explains: anonymous RSS (or RSS) minus the heap's committed size and `external`, in the window. */
  outsideHeap: readonly TimedValue[]
  /** Whether `outsideHeap` took out the heap's committed size (heapTotal) and so can confirm a leak, not only suggest one. */
  outsideHeapConfirms: boolean
  majorsInWindow: readonly TimedValue[]
  /** The heap's judged slope, `null` when it could not be fitted. */
  heapSlopePerMinute: number | null
}

export interface NativeGrowth {
  bytesPerMinute: number
  /** `external` seen right after major GCs (what they could not free), or memory outside the heap climbing steadily across the window. */
  confirmed: boolean
  /** Which series grows: `external` (V8 was told of it) or `outside-heap` (no counter explains it). */
  source: 'external' | 'outside-heap'
}

/**
 * Growth of memory outside the heap (`external`, or what no counter explains) much faster than
 * the heap's own, else null. Both follow the heap's sawtooth: a Buffer is freed when the major GC
 * collects its JS object (measured on the demo's fixed endpoint: external 21 → 40 MB between major
 * GCs, back after each), so `external` counts as confirmed when it shows right after major GCs,
 * like the heap's troughs. Memory V8 is never told of (a library's malloc, WebAssembly memory,
 * threads) shows only in RSS: it counts as confirmed when it climbs steadily across the window
 * (see `climbsSteadily`); a rise in each half of the window without that is only a suspicion.
 */
export function nativeGrowth (input: NativeGrowthInput, thresholds: ResolvedTrendThresholds): NativeGrowth | null {
  const heapSlope = Math.max(input.heapSlopePerMinute ?? 0, 0)
  const gcs = gcEvents(input.majorsInWindow)
  let suspected: NativeGrowth | null = null
  for (const [source, points] of [['external', input.external], ['outside-heap', input.outsideHeap]] as const) {
    const afterGcs = source === 'external' ? lowestAfterEachGc(points, gcs) : []
    const troughs = afterGcs.length >= MIN_TROUGHS && afterGcs.at(-1)!.t - afterGcs[0]!.t >= thresholds.minSpanMs / 2
    const steady = source === 'outside-heap' && input.outsideHeapConfirms ? climbsSteadily(points, thresholds) : null
    const confirmed = troughs || steady !== null
    const series = troughs ? fitSeries(afterGcs) : steady ?? (risesInBothHalves(points, thresholds) ? fitSeries(points) : null)
    if (series === null || series.fit === null) continue
    const slope = series.fit.slopePerMinute
    const beyondHeap = { trend: series.trend, slopePerMinute: slope - heapSlope, level: series.fit.intercept }
    if (slope < NATIVE_DOMINANCE * heapSlope || !rises(beyondHeap, thresholds)) continue
    if (confirmed) return { bytesPerMinute: slope, confirmed, source }
    suspected ??= { bytesPerMinute: slope, confirmed, source }
  }
  return suspected
}

/**
 * Memory outside the heap climbing as a leak does: across the whole window and in each half on
 * its own. A one-off step (what a heap snapshot leaves with glibc, a library loaded) rises in one
 * half only, a pool or an arena that filled and plateaued too. The heap's committed size is
 * already taken out, so V8 growing its reservation does not count.
 */
function climbsSteadily (points: readonly TimedValue[], thresholds: ResolvedTrendThresholds): Fitted | null {
  if (points.length < thresholds.minSamples) return null
  const whole = fitSeries(points)
  if (whole.fit === null || whole.trend.spanMs < thresholds.minSpanMs) return null
  // Each half has half the pairs, and anonymous RSS is noisy (V8 commits and releases young
  // generation pages): a malloc leak's halves agreed 74% where the whole window agreed 92%. Half
  // way between noise (0.5) and the threshold still tells a plateau's flat half from a climbing one.
  const halves = { ...thresholds, minConfidence: (0.5 + thresholds.minConfidence) / 2 }
  return fitRises(whole, thresholds) && risesInBothHalves(points, halves) ? whole : null
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

/**
 * RSS moves in steps (V8 committing pages back after a major GC shrank the heap, what a heap
 * snapshot leaves behind: measured +15 MiB/min over a minute, 80% of pairs agreeing): RSS counts
 * only when each half of the window rises on its own.
 */
function risesInBothHalves (points: readonly TimedValue[], thresholds: ResolvedTrendThresholds): boolean {
  if (points.length < 2) return false
  const middle = (points[0]!.t + points.at(-1)!.t) / 2
  return [points.filter((p) => p.t < middle), points.filter((p) => p.t >= middle)].every((half) => fitRises(fitSeries(half), thresholds))
}
