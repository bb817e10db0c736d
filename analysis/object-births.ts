import { sortOrdinalsById } from './id-order.js'
import type { HeapSnapshot } from './snapshot.js'

/** 0: the object was already alive in the first snapshot; k: it appeared in interval k. */
export type Births = Uint8Array

/** The ids of an earlier snapshot, sorted: all the finder keeps of it. */
export function sortedIds (snapshot: HeapSnapshot): Uint32Array {
  const ordinals = new Uint32Array(snapshot.nodeCount)
  for (let i = 0; i < ordinals.length; i++) ordinals[i] = i
  const sorted = sortOrdinalsById(ordinals, snapshot.nodeId)
  const ids = new Uint32Array(sorted.length)
  for (let k = 0; k < ids.length; k++) ids[k] = snapshot.nodeId[sorted[k] as number] as number
  return ids
}

export interface BirthsOfLast {
  readonly births: Births
  /** Per earlier snapshot: how many of its objects are still alive in the last one. */
  readonly survivors: number[]
}

/**
 * When each object of the last snapshot appeared, told by V8's object ids: an object first
 * present in snapshot k (k ≥ 1) was allocated between snapshots k-1 and k; one found in no
 * earlier snapshot, in the last interval.
 */
export function birthsOfLast (last: HeapSnapshot, earlier: readonly Uint32Array[]): BirthsOfLast {
  const unset = 0xff
  const births = new Uint8Array(last.nodeCount).fill(unset)
  const ordinals = new Uint32Array(last.nodeCount)
  for (let i = 0; i < ordinals.length; i++) ordinals[i] = i
  const byId = sortOrdinalsById(ordinals, last.nodeId)
  const survivors = earlier.map((ids, k) => {
    let found = 0
    for (let i = 0, j = 0; i < byId.length && j < ids.length;) {
      const ordinal = byId[i] as number
      const id = last.nodeId[ordinal] as number
      const other = ids[j] as number
      if (id < other) {
        i++
      } else if (id > other) {
        j++
      } else {
        if (births[ordinal] === unset) births[ordinal] = k
        found++
        i++
        j++
      }
    }
    return found
  })
  for (let i = 0; i < births.length; i++) if (births[i] === unset) births[i] = earlier.length
  return { births, survivors }
}
