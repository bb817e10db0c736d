import { formatBytes } from '../format-bytes.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { NativeGrowth } from './native-growth.js'
import type { HeapTrend, SeriesTrend, TimedValue } from '../types/trend.js'

export function insufficientReason (heap: SeriesTrend, thresholds: ResolvedTrendThresholds): string {
  return `${heap.samples} heap samples spanning ${formatDuration(heap.spanMs)} in the last ${formatDuration(thresholds.windowMs)}; ` +
    `a verdict needs at least ${thresholds.minSamples} spanning ${formatDuration(thresholds.minSpanMs)}`
}

export function heapReason (heap: HeapTrend, excessPerMinute: number): string {
  const when = heap.recent ? 'since the middle of the window (a recent leak)' : 'throughout the window'
  return `the heap after GCs keeps rising ${when}: ${describe(heap)}; ` +
    `${formatSlope(excessPerMinute)} once ${garbage(heap)} is discounted, ` +
    `${heap.majorGcs} major GC(s) in the window`
}

export function unconfirmedReason (heap: HeapTrend): string {
  return `the heap after GCs rises, but no faster than garbage piled up during the last GC cycle (${describe(heap)} once ${garbage(heap)} is discounted): ` +
    'the next major GC will tell a leak from garbage'
}

export function sinceMajorReason (sinceMajor: SeriesTrend, heap: HeapTrend): string {
  return `the heap after GCs has risen since the last major GC (${describe(sinceMajor)}), faster than ${garbage(heap)}: ` +
    'no major GC has refuted that rise yet, and the next one will tell a leak from garbage'
}

export function unevenReason (heap: HeapTrend): string {
  return `the heap after GCs rises, but unevenly (${describe(heap)} once ${garbage(heap)} is discounted): ` +
    'too noisy to call a leak, too steep to call steady'
}

export function overshootReason (heap: HeapTrend): string {
  return `the heap after GCs climbs since the last major GC, yet would fall (${describe(heap)}) once ${garbage(heap)} is discounted: ` +
    'that cycle held more garbage than this one, and the next major GC will tell a leak from garbage'
}

export function troughsReason ([earlier, later]: [TimedValue, TimedValue]): string {
  return `the last major GC left ${formatBytes(later.v)}, ${formatBytes(later.v - earlier.v)} more than the one ${formatDuration(later.t - earlier.t)} before it: ` +
    'the next major GCs will tell a leak from a one-off rise'
}

export function outsideHeapRisesReason (outsideHeap: SeriesTrend): string {
  return `memory no counter explains rises (${describe(outsideHeap)}), not yet across the window and in each of its halves ` +
    'as a leak does: the next samples will tell a leak from a pool or an arena filling'
}

export function unconfirmedNativeReason (perMinute: number, heap: SeriesTrend): string {
  return `memory outside the V8 heap rises (${formatSlope(perMinute)}, the heap after GCs ${describe(heap)}), but not yet as measured right after ` +
    'three major GCs: the next ones will tell memory kept from memory they free'
}

export interface NativeEvidence {
  native: NativeGrowth
  external: SeriesTrend
  rss: SeriesTrend
  outsideHeap: SeriesTrend
  heap: SeriesTrend
  /** The thread count in the window, oldest first. */
  threads: readonly TimedValue[]
}

export function nativeReason ({ native, external, rss, outsideHeap, heap, threads }: NativeEvidence): string {
  const where = native.source === 'external'
    ? `external keeps rising after major GCs (${describe(external)}): Buffers or other memory bound to JS objects`
    : `memory no counter explains keeps rising (${describe(outsideHeap)}), none of it in the JS heap or in external: a native library, WebAssembly memory or threads`
  const first = threads[0]?.v
  const last = threads.at(-1)?.v
  const threadCount = first === undefined || last === undefined ? '' : first === last ? `; ${last} threads` : `; threads ${first} → ${last}`
  return `memory outside the V8 heap keeps rising (${formatSlope(native.bytesPerMinute)}): ${where}; RSS ${describe(rss)}${threadCount}; ` +
    `the heap after GCs does not explain it (${describe(heap)})`
}

export function steadyReason (heap: HeapTrend, refutedBy: TimedValue | null, external: SeriesTrend, rss: SeriesTrend): string {
  const refuted = refutedBy === null
    ? ''
    : `; the major GC at ${new Date(refutedBy.t).toISOString()} took it back to ${formatBytes(refutedBy.v)}, so the rise was garbage`
  return `no sustained growth: heap after GCs ${describe(heap)} once ${garbage(heap)} is discounted${refuted}; ` +
    `external ${describe(external)}; RSS ${describe(rss)}`
}

function garbage (heap: HeapTrend): string {
  return heap.garbageBytesPerMinute === null
    ? 'no garbage (no full GC cycle seen yet)'
    : `the ${formatBytes(heap.garbageBytesPerMinute)}/min of garbage the last major GC reclaimed`
}

function describe (trend: SeriesTrend): string {
  if (trend.slopeBytesPerMinute === null) return 'not enough samples'
  return `${formatSlope(trend.slopeBytesPerMinute)}, ${formatPercent(trend.relativeGrowth!)} over ${formatDuration(trend.spanMs)}, ` +
    `${Math.round(trend.confidence! * 100)}% of sample pairs agree`
}

function formatSlope (bytesPerMinute: number): string {
  return `${bytesPerMinute < 0 ? '-' : '+'}${formatBytes(Math.abs(bytesPerMinute))}/min`
}

function formatPercent (ratio: number): string {
  return `${ratio < 0 ? '-' : '+'}${(Math.abs(ratio) * 100).toFixed(1)}%`
}

function formatDuration (ms: number): string {
  return ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(0)} s`
}
