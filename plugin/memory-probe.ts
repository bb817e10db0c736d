import { freemem, hostname, totalmem } from 'node:os'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import type { CgroupProbe } from './cgroup.js'
import { createProcessStatusReader } from './process-status.js'
import type { ProcessStatus } from './process-status.js'
import type { MemoryReading, OutsideHeap } from './types/reports.js'

export interface MemoryProbe {
  read (): MemoryReading
}

export function createMemoryProbe (cgroup: CgroupProbe, readStatus = createProcessStatusReader()): MemoryProbe {
  const host = hostname()
  // totalmem() parses /proc/meminfo on each call; the machine's RAM does not change.
  const totalBytes = totalmem()
  return {
    read () {
      const usage = process.memoryUsage()
      return {
        process: usage,
        outsideHeap: outsideHeap(usage, readStatus()),
        heap: getHeapStatistics(),
        heapSpaces: getHeapSpaceStatistics(),
        container: cgroup.read(),
        system: { totalBytes, availableBytes: freemem() },
        rssToHeapRatio: round(usage.rss / usage.heapTotal, 3),
        pid: process.pid,
        hostname: host,
        uptimeSeconds: round(process.uptime(), 3),
        timestamp: new Date().toISOString()
      }
    }
  }
}

export function outsideHeap (usage: NodeJS.MemoryUsage, status: ProcessStatus | null): OutsideHeap {
  const activeResources: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) activeResources[type] = (activeResources[type] ?? 0) + 1
  return {
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
    rssAnonBytes: status?.rssAnonBytes ?? null,
    rssFileBytes: status?.rssFileBytes ?? null,
    rssShmemBytes: status?.rssShmemBytes ?? null,
    threads: status?.threads ?? null,
    unexplainedBytes: unexplainedBytes(usage, status),
    activeResources
  }
}

/** Anonymous RSS (RSS without /proc) minus the heap's committed size and `external`: what no counter explains. */
export function unexplainedBytes (usage: NodeJS.MemoryUsage, status: ProcessStatus | null): number {
  return (status?.rssAnonBytes ?? usage.rss) - usage.heapTotal - usage.external
}

export function round (value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
