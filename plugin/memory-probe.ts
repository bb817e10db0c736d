import { freemem, hostname, totalmem } from 'node:os'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import type { HeapInfo, HeapSpaceInfo } from 'node:v8'
import type { CgroupProbe, ContainerMemory } from './cgroup.js'

export interface SystemMemory {
  totalBytes: number
  /** MemAvailable from /proc/meminfo (libuv reads it for `os.freemem()` on Linux). */
  availableBytes: number
}

export interface MemoryReading {
  process: NodeJS.MemoryUsage
  heap: HeapInfo
  heapSpaces: HeapSpaceInfo[]
  container: ContainerMemory
  system: SystemMemory
  /**
   * RSS divided by the V8 heap's total size. Far above 1 (say 3 or more) means most of the
   * process's memory lives outside the JS heap: buffers, native addons, allocator fragmentation.
   */
  rssToHeapRatio: number
  pid: number
  hostname: string
  uptimeSeconds: number
  timestamp: string
}

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
