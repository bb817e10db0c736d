import { sortOrdinalsById } from './id-order.js'
import { labelCounts } from './label-counts.js'
import { nodeLabel } from './retainer-labels.js'
import type { HeapSnapshot } from './snapshot.js'

/** 0: the object was already alive in the first snapshot; k: it appeared in interval k. */
export type Births = Uint8Array

/** What the finder keeps of an earlier snapshot. */
export interface EarlierSnapshot {
  /** Its object ids, sorted. */
  readonly ids: Uint32Array
  /** Its nodes per label (see `labelCounts`): a class's growth, and the native nodes' bound. */
  readonly labelCounts: ReadonlyMap<string, number>
}

export function earlierSnapshot (snapshot: HeapSnapshot): EarlierSnapshot {
  return { ids: sortedIds(snapshot), labelCounts: labelCounts(snapshot) }
}

function sortedIds (snapshot: HeapSnapshot): Uint32Array {
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
 * earlier snapshot, in the last interval. Native nodes are bounded by their counts too
 * (see `boundNativeBirths`).
 */
export function birthsOfLast (last: HeapSnapshot, earlierSnapshots: readonly EarlierSnapshot[]): BirthsOfLast {
  const earlier = earlierSnapshots.map((e) => e.ids)
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
  nativeBirthsByWrapper(last, births)
  boundNativeBirths(last, births, earlierSnapshots.map((e) => e.labelCounts))
  return { births, survivors }
}

/**
 * A native node is no younger than the JS object that holds it (its wrapper, whose id is
 * stable), nor than a native node such a wrapper holds (a histogram's `Node / HistogramBase`
 * holds its `Node / Histogram`): kept histograms are old with their old `Histogram` objects,
 * whatever ids V8 gave them this time (see `boundNativeBirths`). Natives no JS object holds (the
 * runtime's registries, an environment's handle list) pass nothing on: they hold new natives too.
 */
function nativeBirthsByWrapper (last: HeapSnapshot, births: Births): void {
  const native = last.nodeTypeNames.indexOf('native')
  const object = last.nodeTypeNames.indexOf('object')
  const weak = last.edgeTypeNames.indexOf('weak')
  const wrapped = new Uint8Array(last.nodeCount)
  const lower = (from: number, to: number): void => {
    wrapped[to] = 1
    if ((births[from] as number) < (births[to] as number)) births[to] = births[from] as number
  }
  const pass = (holds: (from: number) => boolean): void => {
    for (let from = 0, e = 0; from < last.nodeCount; from++) {
      const end = e + (last.nodeEdgeCount[from] as number)
      if (!holds(from)) {
        e = end
        continue
      }
      for (; e < end; e++) {
        const to = last.edgeToNode[e] as number
        if (last.nodeType[to] === native && last.edgeType[e] !== weak) lower(from, to)
      }
    }
  }
  pass((from) => last.nodeType[from] === object)
  // two levels of natives below a wrapper (what Node's embedder graph has)
  for (let level = 0; level < 2; level++) pass((from) => last.nodeType[from] === native && wrapped[from] === 1)
}

/**
 * The id of an embedder node (Node's `Node / ModuleWrap`, `Node / HistogramBase`, ...) that
 * has no native object or address is made from the graph node V8 allocates afresh for each
 * snapshot (`EmbedderGraphEntriesAllocator::AllocateEntry`): the same module gets another id
 * every time, and by id alone a constant 126 modules read as up to 126 new ones per interval
 * (measured on Node 20, 22 and 24). So native nodes are also counted per name, and no more of
 * a name are born in an interval than its count grew by then: those whose births (by id, or by
 * their wrapper) say they are newest take the latest births, and none is made younger.
 */
function boundNativeBirths (last: HeapSnapshot, births: Births, earlierCounts: ReadonlyArray<ReadonlyMap<string, number>>): void {
  const native = last.nodeTypeNames.indexOf('native')
  const byName = new Map<string, number[]>()
  for (let i = 0; i < last.nodeCount; i++) {
    if (last.nodeType[i] !== native) continue
    const name = nodeLabel(last, i)
    const ordinals = byName.get(name)
    if (ordinals === undefined) byName.set(name, [i])
    else ordinals.push(i)
  }
  for (const [name, ordinals] of byName) {
    const quotas = birthQuotas([...earlierCounts.map((counts) => counts.get(name) ?? 0), ordinals.length])
    ordinals.sort((a, b) => (births[b] as number) - (births[a] as number) || a - b)
    let next = 0
    for (let k = quotas.length - 1; k >= 0; k--) {
      for (let n = 0; n < (quotas[k] as number); n++, next++) {
        const ordinal = ordinals[next] as number
        births[ordinal] = Math.min(births[ordinal] as number, k)
      }
    }
  }
}

/**
 * Per snapshot k, how many of the last snapshot's objects of a name can have been born by k
 * and not before: the growth of the running maximum of the counts, capped at the last count.
 */
function birthQuotas (counts: readonly number[]): number[] {
  const lastCount = counts[counts.length - 1] as number
  let reached = 0
  return counts.map((count) => {
    const now = Math.max(reached, Math.min(count, lastCount))
    const quota = now - reached
    reached = now
    return quota
  })
}
