// The trend's contract: what the verdict reads (TrendInput) and what it reports (TrendReport).
// Types only, and the value lists they derive from.

/** A value observed at a time: `t` in milliseconds (the same clock for every point), `v` in any unit. */
export interface TimedValue {
  t: number
  v: number
}

/** Every verdict, in one place: the route's schema and the Prometheus gauge read this list. */
export const TREND_VERDICTS = ['steady', 'growing-heap', 'growing-native', 'insufficient-data'] as const
export type TrendVerdict = typeof TREND_VERDICTS[number]

export const MEMORY_LIMITS = ['heap', 'container'] as const
export type MemoryLimit = typeof MEMORY_LIMITS[number]

export interface MemoryLimits {
  /** V8's `heap_size_limit`. */
  heapLimitBytes: number
  containerLimitBytes: number | null
  containerUsageBytes: number | null
}

export interface TrendInput {
  /** End of the window, on the samples' clock (usually `Date.now()`). */
  now: number
  /** heapUsed at each periodic sample. */
  heapUsed: readonly TimedValue[]
  /**
   * Per periodic sample, the lowest heapUsed read right after a GC of any kind (scavenges
   * included) since the previous sample: what survived, garbage promoted to the old generation
   * included. Samples without a GC are left out.
   */
  heapFloor: readonly TimedValue[]
  /** heapUsed right after each major GC, including those before the window (they date the last GC cycle). */
  majorGcHeap: readonly TimedValue[]
  rss: readonly TimedValue[]
  /** `process.memoryUsage().external` (C++ memory bound to JS objects, Buffers included). */
  external: readonly TimedValue[]
  /** heapTotal (the heap's committed size) at each periodic sample; without it, heapUsed stands in. */
  heapTotal?: readonly TimedValue[]
  /** Resident anonymous memory (`RssAnon` of /proc/self/status) at each sample; without it, RSS stands in. */
  rssAnon?: readonly TimedValue[]
  /** The process's thread count at each sample, for the reason; may be empty. */
  threads?: readonly TimedValue[]
  /**
   * The heap snapshots the plugin wrote in this process (start and end, on the samples' clock):
   * what each leaves resident (glibc keeps the memory it freed) is no leak of the app's.
   */
  snapshots?: readonly SnapshotSpan[]
  /** For the time to the limit; `null` leaves it out. */
  limits: MemoryLimits | null
}

export interface SnapshotSpan {
  startMs: number
  endMs: number
}

export interface SeriesTrend {
  slopeBytesPerMinute: number | null
  confidence: number | null
  /** Rise over `spanMs` relative to the fitted level at its start (0.1 = +10%). */
  relativeGrowth: number | null
  samples: number
  spanMs: number
}

export interface HeapTrend extends SeriesTrend {
  /**
   * How fast garbage piled up in the old generation during the last full GC cycle (what its
   * major GC reclaimed, per minute), `null` before one was seen. The floor rises that fast
   * between major GCs without any leak; the verdict judges the rise above it.
   */
  garbageBytesPerMinute: number | null
  /** Major GCs inside the window. */
  majorGcs: number
  /** The rise holds over the newer half of the window only: it started inside the window. */
  recent: boolean
}

export interface TimeToLimit {
  /** At the current growth rate. */
  seconds: number
  /** Which limit comes first. */
  limit: MemoryLimit
  bytesLeft: number
  bytesPerMinute: number
}

export interface TrendReport {
  /** The verdict, once the last `CONFIRMATIONS` assessments agreed on it (see `latest`). */
  verdict: TrendVerdict
  /** When the current verdict was first given (ISO 8601), `null` while `steady`. */
  since: string | null
  /** One sentence with the figures behind the verdict. */
  reason: string
  /** What the last assessment alone says, for how many assessments in a row and since when (ISO 8601) it has said so. */
  latest: { verdict: TrendVerdict, assessments: number, since: string }
  /** The last assessment that reported growing-* (ISO 8601), `null` if none did. */
  grewAt: string | null
  windowMs: number
  /** The heap's floor: heapUsed right after GCs. */
  heap: HeapTrend
  external: SeriesTrend
  rss: SeriesTrend
  /**
   * Resident memory no counter explains: anonymous RSS (RSS where /proc is missing) minus the
   * heap's committed size and `external`. Memory a native library mallocs, WebAssembly memory,
   * threads' stacks: what a heap snapshot cannot show.
   */
  outsideHeap: SeriesTrend
  /** When growing, the time until the container's or the heap's limit at the current rate. */
  timeToLimit: TimeToLimit | null
}
