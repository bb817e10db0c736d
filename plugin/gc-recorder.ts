import { PerformanceObserver, constants, createHistogram, performance } from 'node:perf_hooks'
import type { PerformanceEntry, RecordableHistogram } from 'node:perf_hooks'
import { round } from './memory-probe.js'
import { GC_KINDS } from './types/reports.js'
import type { GcKind, GcPeriod, GcStats, PauseStats } from './types/reports.js'

export interface GcRecorderOptions {
  windowMs: number
  /** Called for every GC entry, after it is recorded. */
  onEntry?: (kind: GcKind, durationMs: number) => void
  /** Monotonic clock in ms; tests inject one. @defaultValue `performance.now` */
  now?: () => number
  /** Start the PerformanceObserver. Tests that feed `record()` directly turn it off. @defaultValue `true` */
  observe?: boolean
}

export interface GcRecorder {
  record (kind: GcKind, durationMs: number): void
  stats (): GcStats
  stop (): void
}

const KIND_BY_FLAG = new Map<number, GcKind>([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb']
])

// The window is a ring of slots, rebuilt when a slot expires: a sliding window without
// merging histograms on every request (a merge costs ~100 µs, a percentile read ~1 µs).
const SLOTS = 6
// Pauses are recorded in µs, up to 60 s, with 2 significant figures (1% precision): measured
// here, 3 percentile reads cost ~3 µs against ~17 µs with the default histogram.
const HISTOGRAM = { lowest: 1, highest: 60_000_000, figures: 2 }

interface Tally {
  histogram: RecordableHistogram
  count: number
  totalMs: number
  maxMs: number
}

function newTally (): Tally {
  return { histogram: createHistogram(HISTOGRAM), count: 0, totalMs: 0, maxMs: 0 }
}

function addTo (tally: Tally, durationMs: number): void {
  tally.histogram.record(Math.min(Math.max(1, Math.round(durationMs * 1000)), HISTOGRAM.highest))
  tally.count++
  tally.totalMs += durationMs
  if (durationMs > tally.maxMs) tally.maxMs = durationMs
}

function resetTally (tally: Tally): void {
  tally.histogram.reset()
  tally.count = 0
  tally.totalMs = 0
  tally.maxMs = 0
}

function pauseStats (tally: Tally): PauseStats {
  const empty = tally.count === 0
  // The histogram answers the top of a 1%-wide bucket, which can exceed the exact maximum.
  const percentile = (p: number): number => empty ? 0 : round(Math.min(tally.histogram.percentile(p) / 1000, tally.maxMs), 3)
  return {
    count: tally.count,
    totalMs: round(tally.totalMs, 3),
    maxMs: round(tally.maxMs, 3),
    p50Ms: percentile(50),
    p95Ms: percentile(95),
    p99Ms: percentile(99)
  }
}

type PerKind = Record<GcKind, Tally>

function perKind (): PerKind {
  return { minor: newTally(), major: newTally(), incremental: newTally(), weakcb: newTally() }
}

export function createGcRecorder (options: GcRecorderOptions): GcRecorder {
  const now = options.now ?? (() => performance.now())
  const slotMs = options.windowMs / SLOTS
  const startedAtMs = now()
  const startedAt = new Date(Date.now()).toISOString()
  const total = perKind()
  const slots = Array.from({ length: SLOTS }, perKind)
  const window = perKind()
  let slotIndex = 0
  let slotStartMs = startedAtMs

  function advance (at: number): void {
    const elapsedSlots = Math.floor((at - slotStartMs) / slotMs)
    if (elapsedSlots <= 0) return
    for (let i = 0; i < Math.min(elapsedSlots, SLOTS); i++) {
      slotIndex = (slotIndex + 1) % SLOTS
      for (const kind of GC_KINDS) resetTally(slots[slotIndex]![kind])
    }
    slotStartMs += elapsedSlots * slotMs
    for (const kind of GC_KINDS) rebuildWindow(kind)
  }

  function rebuildWindow (kind: GcKind): void {
    const merged = window[kind]
    resetTally(merged)
    for (const slot of slots) {
      const tally = slot[kind]
      merged.histogram.add(tally.histogram)
      merged.count += tally.count
      merged.totalMs += tally.totalMs
      merged.maxMs = Math.max(merged.maxMs, tally.maxMs)
    }
  }

  function record (kind: GcKind, durationMs: number): void {
    advance(now())
    addTo(total[kind], durationMs)
    addTo(slots[slotIndex]![kind], durationMs)
    addTo(window[kind], durationMs)
    options.onEntry?.(kind, durationMs)
  }

  function period (tallies: PerKind, durationMs: number): GcPeriod {
    let count = 0
    let totalPauseMs = 0
    for (const kind of GC_KINDS) {
      count += tallies[kind].count
      totalPauseMs += tallies[kind].totalMs
    }
    return {
      durationMs: round(durationMs, 3),
      count,
      totalPauseMs: round(totalPauseMs, 3),
      gcShare: durationMs > 0 ? round(totalPauseMs / durationMs, 6) : 0,
      kinds: {
        minor: pauseStats(tallies.minor),
        major: pauseStats(tallies.major),
        incremental: pauseStats(tallies.incremental),
        weakcb: pauseStats(tallies.weakcb)
      }
    }
  }

  function stats (): GcStats {
    const at = now()
    advance(at)
    const coveredMs = Math.min(at - startedAtMs, (SLOTS - 1) * slotMs + (at - slotStartMs))
    return {
      sinceStart: { ...period(total, at - startedAtMs), startedAt },
      window: { ...period(window, coveredMs), windowMs: options.windowMs },
      timestamp: new Date().toISOString()
    }
  }

  // One callback can deliver many entries (GCs that ran while the loop was busy): count them all.
  function onEntries (list: { getEntries (): PerformanceEntry[] }): void {
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail
      const kind = KIND_BY_FLAG.get(detail?.kind ?? -1)
      if (kind !== undefined) record(kind, entry.duration)
    }
  }

  let observer: PerformanceObserver | null = null
  if (options.observe !== false) {
    observer = new PerformanceObserver(onEntries)
    observer.observe({ entryTypes: ['gc'] })
  }

  return {
    record,
    stats,
    stop () {
      observer?.disconnect()
      observer = null
    }
  }
}
