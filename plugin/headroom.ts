import type { ContainerMemory } from './cgroup.js'

/** Which constraint bounded the memory available to a snapshot. */
export type HeadroomSource = 'cgroup-v1' | 'cgroup-v2' | 'system' | 'maxHeapUsedBytes'

export interface HeadroomSettings {
  /** `false`: report the figures but always allow. */
  guard: boolean
  factor: number
  marginBytes: number
  maxHeapUsedBytes: number | null
}

export interface HeadroomFigures {
  heapUsedBytes: number
  container: Pick<ContainerMemory, 'source' | 'limitBytes' | 'usageBytes'>
  /** MemAvailable (`os.freemem()` on Linux). */
  systemAvailableBytes: number
}

export interface HeadroomVerdict {
  allowed: boolean
  reason: string
  heapUsedBytes: number
  estimatedBytes: number
  availableBytes: number
  source: HeadroomSource
}

export interface HeadroomBound {
  source: HeadroomSource
  bytes: number
  /** Where `bytes` comes from, for the reason given to the operator. */
  detail: string
}

const MIB = 1024 * 1024

/**
 * Native memory a heap snapshot needs on top of the current RSS. It is outside the V8 heap, so
 * `--max-old-space-size` does not bound it; measured on Node 20 at 11.2–12.5 × heapUsed for heaps
 * of many small objects (the "twice the heap" of Node's docs is far off).
 */
export function estimateSnapshotBytes (heapUsedBytes: number, settings: Pick<HeadroomSettings, 'factor' | 'marginBytes'>): number {
  return Math.ceil(heapUsedBytes * settings.factor) + settings.marginBytes
}

/**
 * The smallest of what the container, the machine and the configured cap leave. A cgroup's usage
 * includes page cache that the kernel could reclaim, so the cgroup figure errs on the safe side.
 * The cap on heapUsed is expressed as the budget a heap of exactly that size would need, so that
 * "heapUsed exceeds the cap" and "the estimate exceeds the budget" are the same test.
 */
export function availableHeadroom (figures: HeadroomFigures, settings: HeadroomSettings): HeadroomBound {
  const bounds: HeadroomBound[] = []
  const { source, limitBytes, usageBytes } = figures.container
  if (source !== 'none' && limitBytes !== null && usageBytes !== null) {
    bounds.push({
      source,
      bytes: Math.max(0, limitBytes - usageBytes),
      detail: `${source} limit ${mib(limitBytes)} minus usage ${mib(usageBytes)}`
    })
  }
  bounds.push({ source: 'system', bytes: figures.systemAvailableBytes, detail: 'MemAvailable of the machine' })
  const cap = settings.maxHeapUsedBytes
  if (cap !== null) {
    bounds.push({
      source: 'maxHeapUsedBytes',
      bytes: estimateSnapshotBytes(cap, settings),
      detail: `the budget of snapshot.maxHeapUsedBytes ${mib(cap)}`
    })
  }
  return bounds.reduce((smallest, bound) => bound.bytes < smallest.bytes ? bound : smallest)
}

/** Whether a heap snapshot fits in the memory really available now, with the figures that decided. */
export function checkHeadroom (figures: HeadroomFigures, settings: HeadroomSettings): HeadroomVerdict {
  const { heapUsedBytes } = figures
  const estimatedBytes = estimateSnapshotBytes(heapUsedBytes, settings)
  const { source, bytes: availableBytes, detail } = availableHeadroom(figures, settings)
  const fits = estimatedBytes <= availableBytes
  const reason = `a snapshot needs about ${mib(estimatedBytes)} (${settings.factor} × heapUsed ${mib(heapUsedBytes)} + ` +
    `${mib(settings.marginBytes)} margin), ${fits ? 'within' : 'more than'} the ${mib(availableBytes)} available (${detail})`
  return {
    allowed: fits || !settings.guard,
    reason: settings.guard ? reason : `headroom guard disabled (snapshot.guard: false); ${reason}`,
    heapUsedBytes,
    estimatedBytes,
    availableBytes,
    source
  }
}

function mib (bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`
}
