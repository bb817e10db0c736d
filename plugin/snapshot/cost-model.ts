import { getHeapSpaceStatistics } from 'node:v8'

/**
 * What an estimate rests on: `learned` from a snapshot this process really took of a heap about
 * this size (its measured extra peak RSS), `conservative-bound` from the worst cost per heap byte
 * measured on Node 20. (Counting objects with `v8.queryObjects` was measured and rejected: the
 * same 300k objects cost 103 MB or 438 MB depending on how they are held, at the same count.)
 */
export const ESTIMATE_BASES = ['learned', 'conservative-bound'] as const
export type EstimateBasis = typeof ESTIMATE_BASES[number]

/** The V8 heap split the way a snapshot's cost splits. */
export interface HeapComposition {
  /** Used bytes of the large-object spaces (objects over 128 KiB: big arrays, Maps' tables). */
  largeObjectBytes: number
  /** Used bytes of every other space. */
  otherHeapBytes: number
}

/** What the last snapshot cost, next to the heap it was taken of. */
export interface LearnedCost extends HeapComposition {
  extraRssBytes: number
}

export interface SnapshotEstimate {
  basis: EstimateBasis
  estimatedBytes: number
  /** Bytes of native memory counted per used byte of large-object space. */
  bytesPerLargeObjectByte: number
  /** Bytes of native memory counted per used byte of the other spaces (learned or bound). */
  bytesPerOtherHeapByte: number
  marginBytes: number
  largeObjectBytes: number
  otherHeapBytes: number
}

// Measured on Node 20.20 (extra peak RSS of v8.writeHeapSnapshot, VmHWM after clear_refs minus
// RSS before; 300k-600k objects per heap): the cost follows the edges, and an edge out of a huge
// object costs more the bigger that object is, up to about 1.1-1.2 KB per edge out of an array or
// Map of 300k+ entries. Per byte of the regular spaces (the objects such containers point to) that
// gives: 35-40 for `{ i }` objects held by one array or Map, 48 for short strings ('s123') held by
// one array, 13-15 for records and closures, 8 for 64-character strings, 6-8 when the same
// objects are held by arrays of 1,000-15,000. 50 bounds them all.
const OTHER_BYTES_BOUND = 50
// Large-object space (objects over 128 KiB) holds few nodes: the edges out of a big array are
// counted with their targets above. 2,000 arrays of 100,000 doubles (1.5 GB) cost 31 MB: 0.02.
// Not covered: one huge array filled with the same few objects (`new Array(600_000).fill(o)`:
// 5 MB of heap, 761 MB of snapshot), whose edges have no target bytes to be counted by.
const BYTES_PER_LARGE_OBJECT_BYTE = 0.1
// A learned rate is raised by this much, and never goes below the floor (the cheapest measured).
const LEARNED_SAFETY = 1.25
const OTHER_BYTES_FLOOR = 8
// A learned rate holds while the heap is about the size it was learned at: a container that
// grows costs more per entry (an array of 20k entries 100 B per edge, of 300k 1.1 KB), so a
// heap that grew by more than this goes back to the bound.
const LEARNED_MAX_GROWTH = 1.25

const LARGE_OBJECT_SPACES = new Set(['large_object_space', 'new_large_object_space', 'code_large_object_space', 'shared_large_object_space'])

/** The heap's split from `v8.getHeapSpaceStatistics()`: cheap, no heap walk. */
export function heapComposition (spaces = getHeapSpaceStatistics()): HeapComposition {
  let largeObjectBytes = 0
  let otherHeapBytes = 0
  for (const space of spaces) {
    if (LARGE_OBJECT_SPACES.has(space.space_name)) largeObjectBytes += space.space_used_size
    else otherHeapBytes += space.space_used_size
  }
  return { largeObjectBytes, otherHeapBytes }
}

/**
 * The native memory a heap snapshot of `heap` needs on top of the current RSS: the regular spaces'
 * bytes at the rate the last snapshot showed, when there was one of a heap about this size, or at
 * the bound; large-object bytes at their small rate.
 */
export function estimateSnapshotCost (heap: HeapComposition, learned: LearnedCost | null, marginBytes: number): SnapshotEstimate {
  const applies = learned !== null && learnedApplies(heap, learned)
  const otherRate = applies ? learnedOtherRate(learned) : OTHER_BYTES_BOUND
  return {
    basis: applies ? 'learned' : 'conservative-bound',
    estimatedBytes: Math.ceil(BYTES_PER_LARGE_OBJECT_BYTE * heap.largeObjectBytes + otherRate * heap.otherHeapBytes) + marginBytes,
    bytesPerLargeObjectByte: BYTES_PER_LARGE_OBJECT_BYTE,
    bytesPerOtherHeapByte: otherRate,
    marginBytes,
    largeObjectBytes: heap.largeObjectBytes,
    otherHeapBytes: heap.otherHeapBytes
  }
}

function learnedApplies (heap: HeapComposition, learned: LearnedCost): boolean {
  return learned.otherHeapBytes > 0 &&
    heap.otherHeapBytes <= LEARNED_MAX_GROWTH * learned.otherHeapBytes &&
    heap.largeObjectBytes <= LEARNED_MAX_GROWTH * learned.largeObjectBytes + 1024 * 1024
}

function learnedOtherRate ({ extraRssBytes, largeObjectBytes, otherHeapBytes }: LearnedCost): number {
  const rest = extraRssBytes - BYTES_PER_LARGE_OBJECT_BYTE * largeObjectBytes
  const rate = LEARNED_SAFETY * rest / otherHeapBytes
  return Math.round(Math.min(OTHER_BYTES_BOUND, Math.max(OTHER_BYTES_FLOOR, rate)) * 100) / 100
}
