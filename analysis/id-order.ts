const RADIX_BITS = 16
const BUCKETS = 1 << RADIX_BITS

/**
 * Sorts node ordinals by V8 object id (32 bits) with two counting passes of 16 bits each:
 * linear time, no comparator calls, which matters for millions of nodes.
 * Uses `ordinals` as scratch space; returns the sorted array (which may be `ordinals`).
 */
export function sortOrdinalsById (ordinals: Uint32Array, ids: Uint32Array): Uint32Array {
  let from = ordinals
  let to: Uint32Array = new Uint32Array(ordinals.length)
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    const starts = new Uint32Array(BUCKETS + 1)
    for (let i = 0; i < from.length; i++) {
      const next = ((ids[from[i] as number] as number) >>> shift & (BUCKETS - 1)) + 1
      starts[next] = (starts[next] as number) + 1
    }
    for (let b = 1; b <= BUCKETS; b++) starts[b] = (starts[b] as number) + (starts[b - 1] as number)
    for (let i = 0; i < from.length; i++) {
      const ordinal = from[i] as number
      const bucket = (ids[ordinal] as number) >>> shift & (BUCKETS - 1)
      const slot = starts[bucket] as number
      starts[bucket] = slot + 1
      to[slot] = ordinal
    }
    const sorted = to
    to = from
    from = sorted
  }
  return from
}
