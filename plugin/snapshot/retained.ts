import { readFileSync } from 'node:fs'
import type { Allocator, RetainedMemory } from '../types/reports.js'

// Measured (bench/snapshot.ts --cost, five heap shapes): with glibc a second snapshot reused 75-94%
// of what the first left behind (what it needed minus what it added); 60% is counted. With
// jemalloc, 5 s after a snapshot (its dirty pages decay over 10 s), only 23-74% was reused:
// nothing is counted, the memory is on its way back to the system anyway.
const REUSABLE_SHARE = { glibc: 0.6, jemalloc: 0, unknown: 0 } as const satisfies Record<Allocator, number>

/** From the libraries mapped into the process (an LD_PRELOAD'ed jemalloc shows up there). */
export function detectAllocator (mapsFile = '/proc/self/maps'): Allocator {
  let maps: string
  try {
    maps = readFileSync(mapsFile, 'latin1')
  } catch {
    return 'unknown'
  }
  if (/libjemalloc/.test(maps)) return 'jemalloc'
  if (/\/libc[.-]/.test(maps)) return 'glibc'
  return 'unknown'
}

export function retainedMemory (allocator: Allocator, rssNowBytes: number | null, last: { rssBeforeBytes: number | null, extraRssBytes: number | null } | null): RetainedMemory {
  const returnsMemory = allocator === 'jemalloc'
  if (last === null || last.rssBeforeBytes === null || last.extraRssBytes === null || rssNowBytes === null) {
    return { allocator, returnsMemory, retainedBytes: 0, reusableBytes: 0 }
  }
  const retainedBytes = Math.min(last.extraRssBytes, Math.max(0, rssNowBytes - last.rssBeforeBytes))
  return { allocator, returnsMemory, retainedBytes, reusableBytes: Math.floor(retainedBytes * REUSABLE_SHARE[allocator]) }
}
