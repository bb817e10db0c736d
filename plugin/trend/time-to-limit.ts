import type { MemoryLimits, TimeToLimit, TrendVerdict } from '../types/trend.js'

export interface GrowthToLimit {
  /** A growing-* verdict: only the heap's growth counts against the heap's limit. */
  verdict: TrendVerdict
  /** The growth the verdict rests on. */
  bytesPerMinute: number
  /** The heap's floor now, `null` when unknown. */
  heapNow: number | null
  rssBytesPerMinute: number | null
  limits: MemoryLimits | null
}

/** At the current growth rate, how long until the first limit (the heap's or the container's) is reached. */
export function timeToLimit ({ verdict, bytesPerMinute, heapNow, rssBytesPerMinute, limits }: GrowthToLimit): TimeToLimit | null {
  if (limits === null || !(bytesPerMinute > 0)) return null
  const candidates: TimeToLimit[] = []
  if (verdict === 'growing-heap' && heapNow !== null) {
    const bytesLeft = Math.max(0, limits.heapLimitBytes - heapNow)
    candidates.push({ limit: 'heap', bytesLeft, bytesPerMinute, seconds: bytesLeft / bytesPerMinute * 60 })
  }
  if (limits.containerLimitBytes !== null && limits.containerUsageBytes !== null) {
    // The container fills at least as fast as the leak, faster when RSS follows with more.
    const rate = Math.max(bytesPerMinute, rssBytesPerMinute ?? 0)
    const bytesLeft = Math.max(0, limits.containerLimitBytes - limits.containerUsageBytes)
    candidates.push({ limit: 'container', bytesLeft, bytesPerMinute: rate, seconds: bytesLeft / rate * 60 })
  }
  if (candidates.length === 0) return null
  const first = candidates.reduce((a, b) => (b.seconds < a.seconds ? b : a))
  return { ...first, seconds: Math.round(first.seconds), bytesPerMinute: Math.round(first.bytesPerMinute) }
}
