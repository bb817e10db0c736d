import { getHeapSpaceStatistics } from 'node:v8'

/**
 * What an estimate rests on: `learned` from a snapshot this process really took (its measured
 * extra peak RSS), `conservative-bound` from the worst cost per heap byte measured on Node 20.
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

// Measured on Node 20.20 (bench/snapshot.ts, extra peak RSS of v8.writeHeapSnapshot): the cost
// follows the number of edges, and an edge out of one huge object (an array or Map holding
// hundreds of thousands of entries) costs about 1.1-1.2 KB, ten times an edge out of a small one:
// 300k `{ i }` held by one array 438 MB, the same objects in 300 arrays of 1,000 103 MB, in 15
// arrays of 20,000 132 MB; `new Array(600_000).fill(sameObject)`, 5 MB of heap, 761 MB. Such an
// object lives in large-object space, 8 bytes per slot: 1.2 KB / 8 B = 150 per byte bounds it.
// A large-object byte that holds no pointer (an array of doubles, a long string) costs almost
// nothing, and no API tells the two apart without walking the heap: the bound assumes pointers.
const BYTES_PER_LARGE_OBJECT_BYTE = 150
// Every other heap byte: measured 6.3 (a linked list), 6.6-8.4 (objects in arrays of 1,000 to
// 15,000), 8.1 (distinct strings), and about 13 for the strings once their big array's
// share is taken out. A learned rate is kept within these bounds: a learned rate below the
// floor would rest on a heap shape that can change before the next snapshot.
const OTHER_BYTES_BOUND = 16
const OTHER_BYTES_FLOOR = 10
// A learned rate is raised by this much: heaps of the same process change shape between snapshots.
const LEARNED_SAFETY = 1.25

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
 * The native memory a heap snapshot of `heap` needs on top of the current RSS. Large-object bytes
 * are always counted at the bound (a Map that grew from 20,000 to 300,000 entries costs ten times
 * more per entry, so what the last snapshot cost there says nothing safe about the next); the
 * other bytes at the rate the last snapshot showed, when there was one, or at the bound.
 */
export function estimateSnapshotCost (heap: HeapComposition, learned: LearnedCost | null, marginBytes: number): SnapshotEstimate {
  const otherRate = learned === null ? OTHER_BYTES_BOUND : learnedOtherRate(learned)
  return {
    basis: learned === null ? 'conservative-bound' : 'learned',
    estimatedBytes: Math.ceil(BYTES_PER_LARGE_OBJECT_BYTE * heap.largeObjectBytes + otherRate * heap.otherHeapBytes) + marginBytes,
    bytesPerLargeObjectByte: BYTES_PER_LARGE_OBJECT_BYTE,
    bytesPerOtherHeapByte: otherRate,
    marginBytes,
    largeObjectBytes: heap.largeObjectBytes,
    otherHeapBytes: heap.otherHeapBytes
  }
}

function learnedOtherRate ({ extraRssBytes, largeObjectBytes, otherHeapBytes }: LearnedCost): number {
  if (otherHeapBytes <= 0) return OTHER_BYTES_BOUND
  const rest = extraRssBytes - BYTES_PER_LARGE_OBJECT_BYTE * largeObjectBytes
  const rate = LEARNED_SAFETY * rest / otherHeapBytes
  return Math.round(Math.min(OTHER_BYTES_BOUND, Math.max(OTHER_BYTES_FLOOR, rate)) * 100) / 100
}
