import { readFileSync } from 'node:fs'

/** What the kernel says of this process's memory, beyond `process.memoryUsage()`. Linux only. */
export interface ProcessStatus {
  /** Resident anonymous memory (`RssAnon`): the heap, malloc, thread stacks. A native leak grows it. */
  rssAnonBytes: number
  /** Resident file-backed memory (`RssFile`): code, mapped libraries and files. */
  rssFileBytes: number
  /** Resident shared memory (`RssShmem`). */
  rssShmemBytes: number
  threads: number
}

const FIELDS = { RssAnon: 'rssAnonBytes', RssFile: 'rssFileBytes', RssShmem: 'rssShmemBytes', Threads: 'threads' } as const

/**
 * Parses `/proc/self/status` (one small read, no walk over the memory map as `smaps_rollup`
 * takes), `null` where it does not exist or lacks a field.
 */
export function parseProcessStatus (text: string): ProcessStatus | null {
  const status: Partial<ProcessStatus> = {}
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+)(?: kB)?$/.exec(line.trim())
    const field = match === null ? undefined : FIELDS[match[1] as keyof typeof FIELDS]
    if (field === undefined) continue
    status[field] = field === 'threads' ? Number(match![2]) : Number(match![2]) * 1024
  }
  return Object.values(FIELDS).every((field) => status[field] !== undefined) ? status as ProcessStatus : null
}

/** A reader of this process's status that stops trying after the first failure (no /proc: not Linux). */
export function createProcessStatusReader (path = '/proc/self/status'): () => ProcessStatus | null {
  let available = true
  return () => {
    if (!available) return null
    try {
      const status = parseProcessStatus(readFileSync(path, 'utf8'))
      available = status !== null
      return status
    } catch {
      available = false
      return null
    }
  }
}
