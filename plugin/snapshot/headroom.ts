import { estimateSnapshotCost, redactionCost } from './cost-model.js'
import type { HeapComposition, LearnedCost } from './cost-model.js'
import { formatBytes } from '../format-bytes.js'
import type { ResolvedRedaction } from '../types/options.js'
import type { ContainerMemory, HeadroomSource, HeadroomVerdict, SnapshotEstimate } from '../types/reports.js'

export interface HeadroomSettings {
  /** `false`: report the figures but always allow. */
  guard: boolean
  marginBytes: number
  maxHeapUsedBytes: number | null
  /** `snapshot.redact`: its cost is added to the estimate. */
  redact?: ResolvedRedaction | false
}

export interface HeadroomFigures {
  heapUsedBytes: number
  heap: HeapComposition
  container: Pick<ContainerMemory, 'source' | 'limitBytes' | 'usageBytes'>
  /** MemAvailable (`os.freemem()` on Linux). */
  systemAvailableBytes: number
  /** What the last snapshot cost, when this process took one and could measure it. */
  learned: LearnedCost | null
  /** Memory the last snapshot left in this process that the next one reuses (see retained.ts). */
  reusableBytes: number
}

export interface HeadroomBound {
  source: HeadroomSource
  bytes: number
  /** Where `bytes` comes from, for the reason given to the operator. */
  detail: string
}

/**
 * The smallest of what the container, the machine and the configured cap leave. A cgroup's usage
 * includes page cache that the kernel could reclaim, so the cgroup figure errs on the safe side.
 * Memory the last snapshot left behind (glibc keeps it) is counted in the usage but is reused by
 * the next snapshot, so it is added back. The cap on heapUsed is expressed as the budget a heap of
 * exactly that size and the same composition would need, so that "heapUsed exceeds the cap" and
 * "the estimate exceeds the budget" are the same test.
 */
export function availableHeadroom (figures: HeadroomFigures, estimatedBytes: number, settings: HeadroomSettings): HeadroomBound {
  const bounds: HeadroomBound[] = []
  const { reusableBytes } = figures
  const reused = reusableBytes > 0 ? ` plus ${formatBytes(reusableBytes)} the last snapshot left to reuse` : ''
  const { source, limitBytes, usageBytes } = figures.container
  if (source !== 'none' && limitBytes !== null && usageBytes !== null) {
    bounds.push({
      source,
      bytes: Math.max(0, limitBytes - usageBytes) + reusableBytes,
      detail: `${source} limit ${formatBytes(limitBytes)} minus usage ${formatBytes(usageBytes)}${reused}`
    })
  }
  bounds.push({ source: 'system', bytes: figures.systemAvailableBytes + reusableBytes, detail: `MemAvailable of the machine${reused}` })
  const cap = settings.maxHeapUsedBytes
  if (cap !== null) {
    const scale = figures.heapUsedBytes > 0 ? cap / figures.heapUsedBytes : 1
    bounds.push({
      source: 'maxHeapUsedBytes',
      bytes: Math.floor((estimatedBytes - settings.marginBytes) * scale) + settings.marginBytes,
      detail: `the budget of snapshot.maxHeapUsedBytes ${formatBytes(cap)}`
    })
  }
  return bounds.reduce((smallest, bound) => bound.bytes < smallest.bytes ? bound : smallest)
}

/** Whether a heap snapshot fits in the memory really available now, with the figures that decided. */
export function checkHeadroom (figures: HeadroomFigures, settings: HeadroomSettings): HeadroomVerdict {
  const { heapUsedBytes, reusableBytes } = figures
  const redactionBytes = settings.redact === undefined || settings.redact === false ? 0 : redactionCost(figures.heap)
  const estimate = estimateSnapshotCost(figures.heap, figures.learned, settings.marginBytes, redactionBytes)
  const { estimatedBytes } = estimate
  const { source, bytes: availableBytes, detail } = availableHeadroom(figures, estimatedBytes, settings)
  const fits = estimatedBytes <= availableBytes
  const reason = `a snapshot needs about ${formatBytes(estimatedBytes)} (${describe(estimate)}), ` +
    `${fits ? 'within' : 'more than'} the ${formatBytes(availableBytes)} available (${detail})`
  return {
    allowed: fits || !settings.guard,
    reason: settings.guard ? reason : `headroom guard disabled (snapshot.guard: false); ${reason}`,
    heapUsedBytes,
    estimatedBytes,
    availableBytes,
    source,
    basis: estimate.basis,
    estimate,
    reusableBytes
  }
}

function describe (estimate: SnapshotEstimate): string {
  const bound = `the bound for ${formatBytes(estimate.otherHeapBytes)} of regular heap and ${formatBytes(estimate.largeObjectBytes)} of large objects`
  const scaled = estimate.learnedRatio === null ? bound : `${estimate.learnedRatio} × ${bound}, learned from the last snapshot`
  const redaction = estimate.redactionBytes > 0 ? ` + ${formatBytes(estimate.redactionBytes)} for redaction` : ''
  return `${scaled}${redaction} + ${formatBytes(estimate.marginBytes)} margin`
}
