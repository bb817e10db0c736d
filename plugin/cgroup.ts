import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import type { ContainerMemory } from './types/reports.js'

export type CgroupVersion = 'v1' | 'v2'

export interface CgroupProbe {
  read (): ContainerMemory
  close (): void
}

// v1 reports "no limit" as LONG_MAX rounded down to a page (9223372036854771712);
// process.constrainedMemory() reports about 2^64. Anything this large is not a real limit.
const NO_LIMIT_THRESHOLD = 2 ** 62

const FILES = {
  v1: { limit: 'memory.limit_in_bytes', usage: 'memory.usage_in_bytes' },
  v2: { limit: 'memory.max', usage: 'memory.current' }
} as const

interface Location {
  version: CgroupVersion
  mount: string
  dir: string
}

/**
 * Finds the process's memory cgroup once, keeps the usage and limit files open so that each
 * read is a positional read on a kept descriptor (measured: ~0.5 µs vs 5–8 µs for readFileSync),
 * and computes the ancestors' limits once since they rarely change.
 */
export function openCgroupProbe (root: string, procSelfCgroup: string): CgroupProbe {
  const location = locate(root, procSelfCgroup)
  if (location === null) return noCgroupProbe()

  const files = FILES[location.version]
  const ownLimitFile = join(location.dir, files.limit)
  const usageFile = join(location.dir, files.usage)
  const ancestor = smallestAncestorLimit(location, files.limit)
  const limitFd = openSync(ownLimitFile, 'r')
  const usageFd = openSync(usageFile, 'r')
  const buffer = Buffer.alloc(64)
  const source = location.version === 'v2' ? 'cgroup-v2' : 'cgroup-v1'
  const constrainedMemoryBytes = constrainedMemory()
  let closed = false

  function readNumber (fd: number): number | null {
    const length = readSync(fd, buffer, 0, buffer.length, 0)
    return parseLimit(buffer.toString('latin1', 0, length))
  }

  return {
    read () {
      const own = readNumber(limitFd)
      const useOwn = own !== null && (ancestor === null || own <= ancestor.bytes)
      const limitBytes = useOwn ? own : ancestor?.bytes ?? null
      return {
        source,
        cgroupDir: location.dir,
        limitBytes,
        limitFile: limitBytes === null ? null : useOwn ? ownLimitFile : ancestor?.file ?? null,
        usageBytes: readNumber(usageFd),
        usageFile,
        constrainedMemoryBytes
      }
    },
    close () {
      // idempotent: a second close would close whatever file reused these descriptor numbers
      if (closed) return
      closed = true
      closeSync(limitFd)
      closeSync(usageFd)
    }
  }
}

function noCgroupProbe (): CgroupProbe {
  const constrainedMemoryBytes = constrainedMemory()
  return {
    read: () => ({
      source: 'none',
      cgroupDir: null,
      limitBytes: null,
      limitFile: null,
      usageBytes: null,
      usageFile: null,
      constrainedMemoryBytes
    }),
    close () {}
  }
}

/** Parses a limit or usage file: a byte count, or `max` (v2) / a huge number (v1) for "no limit". */
export function parseLimit (text: string): number | null {
  const value = text.trim()
  if (value === 'max' || value === '') return null
  const bytes = Number(value)
  if (!Number.isFinite(bytes) || bytes < 0 || bytes >= NO_LIMIT_THRESHOLD) return null
  return bytes
}

// Read once: libuv re-reads the cgroup files on every call (~15 µs), and a limit rarely changes.
function constrainedMemory (): number | null {
  const value = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : undefined
  if (value === undefined || value <= 0 || value >= NO_LIMIT_THRESHOLD) return null
  return value
}

/**
 * Reads `/proc/self/cgroup`. A v1 memory controller wins over the v2 line (hybrid hosts put
 * memory on v1). When the listed path does not exist under the mount (a cgroup namespace shows
 * the container's own cgroup as the mount root), the mount root is the process's cgroup.
 */
export function locate (root: string, procSelfCgroup: string): Location | null {
  let text: string
  try {
    text = readFileSync(procSelfCgroup, 'latin1')
  } catch {
    return null
  }
  const lines = text.split('\n').map((line) => line.split(':'))
  const v1 = lines.find((parts) => parts.length >= 3 && parts[1]?.split(',').includes('memory'))
  if (v1 !== undefined) {
    const found = resolveDir('v1', join(root, 'memory'), v1.slice(2).join(':'))
    if (found !== null) return found
  }
  const v2 = lines.find((parts) => parts[0] === '0' && parts[1] === '')
  if (v2 !== undefined) return resolveDir('v2', root, v2.slice(2).join(':'))
  return null
}

function resolveDir (version: CgroupVersion, mount: string, cgroupPath: string): Location | null {
  const usage = FILES[version].usage
  const dir = join(mount, cgroupPath)
  if (existsSync(join(dir, usage))) return { version, mount, dir }
  if (existsSync(join(mount, usage))) return { version, mount, dir: mount }
  return null
}

function smallestAncestorLimit (location: Location, limitName: string): { bytes: number, file: string } | null {
  let best: { bytes: number, file: string } | null = null
  let dir = location.dir
  while (relative(location.mount, dir) !== '' && dirname(dir) !== dir) {
    dir = dirname(dir)
    const file = join(dir, limitName)
    let bytes: number | null = null
    try {
      bytes = parseLimit(readFileSync(file, 'latin1'))
    } catch {
      // the v2 root cgroup has no memory.max: no limit at that level
    }
    if (bytes !== null && (best === null || bytes < best.bytes)) best = { bytes, file }
  }
  return best
}
