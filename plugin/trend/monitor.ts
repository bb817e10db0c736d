import { getHeapStatistics } from 'node:v8'
import { createMemorySampler, SAMPLED_FIELDS } from './sampler.js'
import type { SampledField } from './sampler.js'
import { judgeTrend } from './verdict.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { MemoryLimits, SnapshotSpan, TimedValue, TrendReport } from '../types/trend.js'

export interface TrendMonitorOptions {
  intervalMs: number
  capacityMs: number
  /** Already resolved by the options gate. */
  thresholds: ResolvedTrendThresholds
  /** The heap and container limits for the time to the limit. */
  readLimits: () => MemoryLimits
  /** Called after each assessment (the evidence capture watches the verdict turn here). */
  onReport?: (report: TrendReport) => void
}

/** A change of the verdict, for the postmortem. */
export interface VerdictChange {
  /** ISO 8601. */
  at: string
  verdict: TrendReport['verdict']
  reason: string
}

export interface TrendSeries {
  windowMs: number
  samples: Record<SampledField, TimedValue[]>
  majorGcHeap: TimedValue[]
}

// At one change per confirmation (a few samples) a day of flapping would be thousands: the last
// ones tell the story.
const HISTORY_LENGTH = 100

export interface TrendMonitor {
  /** The verdict judged at the last sample (never computed on the request path). */
  report (): TrendReport
  /** The heap used after the last major GC, or null before the first one. */
  lastMajorGcHeapBytes (): number | null
  /** For the GC observer: called right after each GC. */
  recordGc (major: boolean): void
  /** For the snapshot writer: a heap snapshot was written between these times (see TrendInput.snapshots). */
  recordSnapshot (span: SnapshotSpan): void
  /** The samples of the trend window, by field, and the heap after each major GC in it. */
  series (): TrendSeries
  /** The verdict's changes, oldest first, the last HISTORY_LENGTH of them. */
  history (): readonly VerdictChange[]
  stop (): void
}

/**
 * Samples memory on an unref'd timer and judges the trend after each sample, so that reading
 * `GET /memory` costs nothing more than returning the last report.
 */
export function createTrendMonitor (options: TrendMonitorOptions): TrendMonitor {
  const { thresholds } = options
  let current: TrendReport | null = null
  let lastMajorGcHeap: number | null = null
  const history: VerdictChange[] = []
  let snapshots: SnapshotSpan[] = []

  function assess (): TrendReport {
    const now = Date.now()
    const since = now - thresholds.windowMs
    current = judgeTrend({
      now,
      heapUsed: sampler.series('heapUsed', since),
      // all of it: the garbage rate is learned from the last full GC cycle, which can start before the window
      heapFloor: sampler.series('heapFloor'),
      majorGcHeap: sampler.majorGcSeries(),
      rss: sampler.series('rss', since),
      external: sampler.series('external', since),
      heapTotal: sampler.series('heapTotal', since),
      rssAnon: sampler.series('rssAnon', since),
      threads: sampler.series('threads', since),
      snapshots,
      limits: options.readLimits()
    }, thresholds, current)
    if (history.at(-1)?.verdict !== current.verdict) {
      history.push({ at: new Date(now).toISOString(), verdict: current.verdict, reason: current.reason })
      if (history.length > HISTORY_LENGTH) history.shift()
    }
    options.onReport?.(current)
    return current
  }

  const sampler = createMemorySampler({ intervalMs: options.intervalMs, capacityMs: options.capacityMs, onSample: assess })

  return {
    report: () => current ?? assess(),
    lastMajorGcHeapBytes: () => lastMajorGcHeap,
    history: () => history,
    series () {
      const since = Date.now() - thresholds.windowMs
      const samples = Object.fromEntries(SAMPLED_FIELDS.map((field) => [field, sampler.series(field, since)])) as Record<SampledField, TimedValue[]>
      return { windowMs: thresholds.windowMs, samples, majorGcHeap: sampler.majorGcSeries(since) }
    },
    recordGc (major) {
      const heapUsed = getHeapStatistics().used_heap_size
      if (major) lastMajorGcHeap = heapUsed
      sampler.recordGc(major, heapUsed)
    },
    recordSnapshot (span) {
      // Those that ended before the window matter no more: their steps are before every point.
      const since = Date.now() - thresholds.windowMs
      snapshots = [...snapshots.filter((s) => s.endMs >= since), span]
    },
    stop () {
      sampler.stop()
    }
  }
}
