import { freemem, hostname, totalmem } from 'node:os'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import type { CgroupProbe } from './cgroup.js'
import type { MemoryReading } from './types/reports.js'

export interface MemoryProbe {
  read (): MemoryReading
}

export function createMemoryProbe (cgroup: CgroupProbe): MemoryProbe {
  const host = hostname()
  // totalmem() parses /proc/meminfo on each call; the machine's RAM does not change.
  const totalBytes = totalmem()
  return {
    read () {
      const usage = process.memoryUsage()
      return {
        process: usage,
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

export function round (value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
