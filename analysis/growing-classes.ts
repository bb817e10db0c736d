import type { Dominators } from './dominators.js'
import { NONE } from './leak-group.js'
import type { Group, Tally } from './leak-group.js'
import { NO_COLLECTION } from './collection-of.js'
import { NodeKind } from './node-kinds.js'
import { ReplacedHolders } from './lasting-holder.js'
import type { PathShapes } from './path-shapes.js'
import { nodeLabel } from './retainer-labels.js'
import type { RetainerTree } from './retainer-tree.js'
import type { HeapSnapshot } from './snapshot.js'

export interface GrowingClassesInput {
  readonly snapshot: HeapSnapshot
  readonly births: Uint8Array
  readonly kinds: Uint8Array
  readonly dominators: Dominators
  readonly tree: RetainerTree
  /** 1 for the nodes a candidate already accounts for (its objects, what they drag or dominate). */
  readonly covered: Uint8Array
  readonly intervals: number
  readonly minPerInterval: number
  /** Per string index: 1 for the names of carriers (timers, promise reactions...). */
  readonly carriers: Uint8Array
  /** Whether the class of this label grew across the snapshots as much as `alive` new objects of it say. */
  readonly grew: (label: string, alive: number) => boolean
  readonly firstEdge: Uint32Array
  readonly shapes: PathShapes
  /** Per node: the nearest strict dominator that is an object or a function, NONE for none. */
  readonly owner: Uint32Array
  /** A buffer of a node each, free for this walk. */
  readonly scratch: Uint32Array
}

/**
 * What DevTools' Comparison view would show and no candidate accounts for: per class, the new
 * objects still alive in the last snapshot, when some were born in every interval and the class
 * grew. Whatever holds them — a collection replaced on each update (`store = { ...store, list:
 * [...store.list, x] }`, `pending = batch.concat(pending)`), a suspended function's local
 * behind a chain of new promises, a linked list whose head is new — the finder's groups by the
 * top of what was newly retained can miss them, since that top is new in the last interval only.
 * So here a class is its own group, whatever holds its objects: an object of one of these classes
 * dominated by an object of another is counted (as dragged) in that one's group; one dominated by
 * an object of its own class (a linked list) is counted in its class, its bytes given to its own
 * interval.
 */
export function growingClasses (input: GrowingClassesInput): Group[] {
  const { snapshot, births, intervals } = input
  const { labelOf, labels } = eligibleLabels(input)
  const passing = new Uint8Array(labels.length)
  const counts = labels.map(() => new Float64Array(intervals))
  for (let n = 0; n < snapshot.nodeCount; n++) {
    const id = labelOf[n] as number
    if (id === NONE) continue
    const perInterval = counts[id] as Float64Array
    perInterval[(births[n] as number) - 1] = (perInterval[(births[n] as number) - 1] as number) + 1
  }
  counts.forEach((perInterval, id) => {
    const alive = perInterval.reduce((a, b) => a + b, 0)
    passing[id] = perInterval.every((c) => c >= input.minPerInterval) && input.grew(labels[id] as string, alive) ? 1 : 0
  })
  // A group (a class on one shape of path) without objects from every interval leaves the
  // running, and what it dragged is counted again: until no group drops.
  const dropped = new Set<string>()
  for (;;) {
    const groups = groupsOf(input, labelOf, labels, passing, dropped)
    const failing = [...groups].filter(([, g]) => !g.counts.every((c) => c >= input.minPerInterval))
    if (failing.length === 0) return [...groups.values()]
    for (const [key] of failing) dropped.add(key)
  }
}

/**
 * Per node, the id of its label when it is new, not accounted for, an object or a function of
 * its own, and not a part of a new object made with it; NONE otherwise. A new object is a part of
 * the nearest object above it in the dominator tree when that one is new too, unless that one
 * holds older objects of its class: then it is a collection replaced since (see `lastingHolder`),
 * not the object its entries were made with.
 */
function eligibleLabels ({ snapshot, births, kinds, covered, tree, owner, firstEdge }: GrowingClassesInput): { labelOf: Uint32Array, labels: string[] } {
  const replaced = new ReplacedHolders(snapshot, firstEdge, births)
  const labelOf = new Uint32Array(snapshot.nodeCount).fill(NONE)
  const labels: string[] = []
  const ids = new Map<string, number>()
  const types = snapshot.nodeTypeNames.length
  const byNameAndType = new Map<number, number>()
  // V8's literal boilerplates: the first object a literal made, kept by its allocation site as a template.
  const allocationSite = snapshot.strings.indexOf('system / AllocationSite')
  for (let n = 0; n < snapshot.nodeCount; n++) {
    if (births[n] === 0 || covered[n] === 1 || (kinds[n] as number) < NodeKind.BUILT_IN || snapshot.nodeSelfSize[n] === 0) continue
    const parent = tree.parent[n] as number
    if (parent !== NONE && snapshot.nodeName[parent] === allocationSite) continue
    const above = owner[n] as number
    if (above !== NONE && births[above] !== 0 && !replaced.holds(above, n)) continue
    const key = (snapshot.nodeName[n] as number) * types + (snapshot.nodeType[n] as number)
    let id = byNameAndType.get(key)
    if (id === undefined) {
      const label = nodeLabel(snapshot, n)
      id = ids.get(label)
      if (id === undefined) {
        id = labels.length
        labels.push(label)
        ids.set(label, id)
      }
      byNameAndType.set(key, id)
    }
    labelOf[n] = id
  }
  return { labelOf, labels }
}

/** The groups of the passing classes (see `growingClasses`) by class and path shape, one pass over the dominator tree. */
function groupsOf (input: GrowingClassesInput, labelOf: Uint32Array, labels: readonly string[], passing: Uint8Array, dropped: ReadonlySet<string>): Map<string, Group> {
  const { snapshot, births, kinds, dominators, intervals, carriers, tree, shapes, scratch } = input
  const { idom, order, retainedSize } = dominators
  const root = snapshot.rootOrdinal
  const keyOf = new Map<number, string>()
  const key = (n: number): string | undefined => {
    const id = labelOf[n] as number
    if (id === NONE || passing[id] === 0) return undefined
    let k = keyOf.get(n)
    if (k === undefined) keyOf.set(n, k = `${id}\u0000${shapes.ofMember(n)}`)
    return dropped.has(k) ? undefined : k
  }
  // Per node: the nearest strict dominator that is a member of a group, and the group each member or dragged object is counted in.
  const above = scratch.fill(NONE)
  const groupOf = new Map<number, Group>()
  const groups = new Map<string, Group>()
  const groupFor = (k: string, sample: number): Group => {
    let group = groups.get(k)
    if (group === undefined) {
      const objectClass = labels[labelOf[sample] as number] as string
      const carrier = kinds[sample] !== NodeKind.APP || carriers[snapshot.nodeName[sample] as number] === 1
      const tally = { counts: new Float64Array(intervals), sample, carrier, dataKind: false, count: 0, bytes: 0 }
      group = {
        objectClass,
        carrier,
        shape: shapes.ofMember(sample),
        collection: NO_COLLECTION,
        counts: tally.counts,
        bytes: new Float64Array(intervals),
        liveCount: 0,
        retained: 0,
        sample,
        classes: new Map([[objectClass, tally]]),
        retains: new Map(),
        drags: new Map()
      }
      groups.set(k, group)
    }
    return group
  }
  const members = new Set<number>()
  for (let k = 0; k < order.length; k++) {
    const n = order[k] as number
    if (n === root) continue
    const d = idom[n] as number
    above[n] = key(d) !== undefined ? d : above[d] as number
    const own = key(n)
    if (own === undefined) continue
    const top = above[n] as number
    const born = (births[n] as number) - 1
    const retained = retainedSize[n] as number
    if (top === NONE || (labelOf[top] === labelOf[n] && members.has(top))) {
      // A member: of its own group, or within a chain of its own class (a linked list), its bytes given to its own interval.
      members.add(n)
      const group = groupFor(own, n)
      groupOf.set(n, group)
      group.counts[born] = (group.counts[born] as number) + 1
      group.liveCount++
      group.bytes[born] = (group.bytes[born] as number) + retained
      if (top === NONE) group.retained += retained
      else {
        const chain = groupOf.get(top) as Group
        chain.bytes[(births[top] as number) - 1] = (chain.bytes[(births[top] as number) - 1] as number) - retained
      }
    } else {
      const group = groupOf.get(top) as Group
      groupOf.set(n, group)
      addDrag(group.drags, nodeLabel(snapshot, n), members.has(top) ? retained : 0)
    }
  }
  for (const group of groups.values()) {
    const tally = group.classes.get(group.objectClass)
    if (tally !== undefined) {
      tally.count = group.liveCount
      tally.bytes = group.retained
    }
  }
  // The sample: the group's first member reached breadth first, for the shortest path.
  const sampled = new Set<Group>()
  for (let k = 0; k < tree.reached && sampled.size < groups.size; k++) {
    const n = tree.order[k] as number
    const group = groupOf.get(n)
    if (group === undefined || !members.has(n) || sampled.has(group)) continue
    sampled.add(group)
    group.sample = n
    group.shape = shapes.ofMember(n)
  }
  return groups
}

function addDrag (drags: Map<string, Tally>, label: string, bytes: number): void {
  const tally = drags.get(label)
  if (tally === undefined) drags.set(label, { count: 1, bytes })
  else {
    tally.count++
    tally.bytes += bytes
  }
}
