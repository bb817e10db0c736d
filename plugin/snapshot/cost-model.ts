import { getHeapSpaceStatistics } from 'node:v8'
import type { SnapshotEstimate } from '../types/reports.js'

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

// Measured on Node 20.20 (extra peak RSS of v8.writeHeapSnapshot, VmHWM after clear_refs minus
// RSS before; 300k-600k objects per heap): the cost follows the edges, and an edge out of a huge
// object costs more the bigger that object is, up to about 1.1-1.2 KB per edge out of an array or
// Map of 300k+ entries, ten times an edge out of a small one. The same 300k `{ i }` objects cost
// 438 MB held by one array, 103 MB held by 300 arrays of 1,000.
//
// So the bound has two terms. Every byte of the regular spaces: at most 13 when no object is
// huge (6-8 for objects in arrays of 1,000-15,000, 8 for 64-character strings, 13-15 × heapUsed
// for records and closures, their big array included): 15. The edges out of huge objects, which
// live in large-object space at 8 bytes a slot: 1.2 KB / 8 B = 150 per large-object byte; but a
// large-object byte that holds no pointer (an array of doubles, a long string, code) costs
// nothing (2,000 arrays of 100,000 doubles, 1.5 GB: 31 MB), and each such edge leads to an object
// of the regular spaces, which bounds them too: 27 per byte for `{ i }` held by one array, 41 for
// short strings held by one: 40. Not covered: one huge array filled with the same few objects
// (`new Array(600_000).fill(o)`: 5 MB of heap, 761 MB of snapshot): its edges have no targets to
// be counted by.
const BYTES_PER_OTHER_BYTE = 15
const BYTES_PER_LARGE_OBJECT_BYTE = 150
const HUGE_EDGES_PER_OTHER_BYTE = 40
// A learned ratio is raised by this much, and kept within [floor, 1]: never above the bound.
const LEARNED_SAFETY = 1.25
const LEARNED_FLOOR = 0.25
// A learned ratio holds while the heap is about the size it was learned at: a container that
// grows costs more per entry (20k entries: 100 B per edge; 300k: 1.1 KB), so a heap that grew by
// more than this goes back to the bound.
const LEARNED_MAX_GROWTH = 1.25

// `snapshot.redact`: a worker thread (its isolate) with a 256 KiB chunk and output buffer,
// measured 12-38 MB of extra peak RSS over an unredacted write on Node 20 (bench/redact.ts, 100k
// and 200k records), plus two bits per string-table entry; an entry is at most one per heap
// object, and no heap object is under 12 bytes.
const REDACTION_BASE_BYTES = 40 * 1024 * 1024
const REDACTION_BYTES_PER_HEAP_BYTE = 2 / 8 / 12

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

/** The conservative bound of a snapshot of `heap`, in bytes, margin excluded. */
export function snapshotCostBound ({ largeObjectBytes, otherHeapBytes }: HeapComposition): number {
  const hugeEdges = Math.min(BYTES_PER_LARGE_OBJECT_BYTE * largeObjectBytes, HUGE_EDGES_PER_OTHER_BYTE * otherHeapBytes)
  return Math.ceil(BYTES_PER_OTHER_BYTE * otherHeapBytes + hugeEdges)
}

/** What redacting a snapshot of `heap` adds to its cost (see redact.ts): fixed, plus the bitsets. */
export function redactionCost ({ largeObjectBytes, otherHeapBytes }: HeapComposition): number {
  return REDACTION_BASE_BYTES + Math.ceil((largeObjectBytes + otherHeapBytes) * REDACTION_BYTES_PER_HEAP_BYTE)
}

/**
 * The native memory a heap snapshot of `heap` needs on top of the current RSS: the bound, or the
 * bound scaled by what the last snapshot really cost next to its own bound, while the heap is
 * about the size it was then; plus what redaction adds when it is on.
 */
export function estimateSnapshotCost (heap: HeapComposition, learned: LearnedCost | null, marginBytes: number, redactionBytes = 0): SnapshotEstimate {
  const boundBytes = snapshotCostBound(heap)
  const learnedRatio = learned !== null && learnedApplies(heap, learned) ? ratioOf(learned) : null
  return {
    basis: learnedRatio === null ? 'conservative-bound' : 'learned',
    estimatedBytes: Math.ceil(boundBytes * (learnedRatio ?? 1)) + redactionBytes + marginBytes,
    boundBytes,
    learnedRatio,
    marginBytes,
    largeObjectBytes: heap.largeObjectBytes,
    otherHeapBytes: heap.otherHeapBytes,
    redactionBytes
  }
}

function learnedApplies (heap: HeapComposition, learned: LearnedCost): boolean {
  return learned.otherHeapBytes > 0 &&
    heap.otherHeapBytes <= LEARNED_MAX_GROWTH * learned.otherHeapBytes &&
    heap.largeObjectBytes <= LEARNED_MAX_GROWTH * learned.largeObjectBytes + 1024 * 1024
}

function ratioOf (learned: LearnedCost): number {
  const ratio = LEARNED_SAFETY * learned.extraRssBytes / snapshotCostBound(learned)
  return Math.round(Math.min(1, Math.max(LEARNED_FLOOR, ratio)) * 1000) / 1000
}
