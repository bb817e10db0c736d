import { getHeapStatistics } from 'node:v8'
import { createMemorySampler } from './memory-sampler.js'
import { createLeakDetector, resolveLeakThresholds } from './trend.js'
import type { LeakReport, LeakThresholds } from './trend.js'

export interface LeakMonitorOptions {
  intervalMs: number
  capacityMs: number
  thresholds: LeakThresholds
}

export interface LeakMonitor {
  /** The verdict judged at the last sample (never computed on the request path). */
  report (): LeakReport
  /** The heap used after the last major GC, or null before the first one. */
  lastPostGcHeapBytes (): number | null
  /** For the GC recorder: called right after each major GC. */
  recordMajorGc (): void
  stop (): void
}

/**
 * Samples memory on an unref'd timer and judges the trend after each sample, so that reading
 * `GET /memory` costs nothing more than returning the last report (a Theil–Sen fit over the
 * window takes about a millisecond).
 */
export function createLeakMonitor (options: LeakMonitorOptions): LeakMonitor {
  const thresholds = resolveLeakThresholds(options.thresholds)
  const detector = createLeakDetector(thresholds)
  let lastPostGcHeap: number | null = null

  function assess (): LeakReport {
    const now = Date.now()
    const since = now - thresholds.windowMs
    return detector.assess({ now, postGcHeap: sampler.postGcSeries(since), rss: sampler.series('rss', since) })
  }

  const sampler = createMemorySampler({ intervalMs: options.intervalMs, capacityMs: options.capacityMs, onSample: assess })

  return {
    report: () => detector.current ?? assess(),
    lastPostGcHeapBytes: () => lastPostGcHeap,
    recordMajorGc () {
      lastPostGcHeap = getHeapStatistics().used_heap_size
      sampler.recordPostGcHeap(Date.now(), lastPostGcHeap)
    },
    stop () {
      sampler.stop()
    }
  }
}
