import { dominatorTree } from './dominator-tree.js'
import type { Digraph } from './dominator-tree.js'
import type { Dominators } from './dominators.js'
import { essentialEdges } from './essential-edges.js'
import { TIMER_CLASSES } from './path-detours.js'
import type { HeapSnapshot } from './snapshot.js'

const NONE = 0xffffffff
// What holds the head of a vertex (see Domains), from outside the vertex's own dominator subtree.
const HELD_BY_OLD = 1
const HELD_BY_LEAK = 2
const HELD_BY_RUNTIME = 4

export interface LeakRoots {
  /**
   * Per leaking object (its position in the list): the position of the leaking object that
   * carries it, the top of the chain of those that hold it alone; its own position for a root.
   */
  readonly rootOf: Uint32Array
  /** 1 where the object is in another leaking object's dominator subtree: its retained size is already in that one's. */
  readonly nested: Uint8Array
}

/**
 * Which leaking objects are alive only because other leaking objects hold them. A leaking
 * object "holds" another when an essential edge into the other comes from its dominator
 * subtree; an edge from anywhere else is a hold by the old world. The dominator tree of these
 * holds (the old world as its root) says which objects every path from the GC roots reaches
 * through another leaking object: those under a leaking object that is a child of the old
 * world are carried by that child, however long the chain; an object also held from elsewhere
 * is a child of the old world, a root of its own. New nodes that no leaking object dominates
 * are vertices of the holds too (see Domains), so that a hold passes through them.
 *
 * Holds by Node's runtime, the root's own entries (V8's handles, Node's native handles of open
 * sockets) and the links of a timer list between its pending timers, count only for an object
 * that nothing else holds: they keep an object alive while its socket is open or its timer
 * pending, so they say who is waiting on it, not who leaked it (a leaked database connection's
 * pool arms a timer and opens sockets: the timer list and the sockets reach the whole connection
 * as well as the array the connection was left in).
 */
export function leakRoots (snapshot: HeapSnapshot, dominators: Dominators, firstEdge: Uint32Array, births: Uint8Array, leaking: Uint32Array): LeakRoots {
  const domains = leakDomains(snapshot, dominators, births, leaking)
  const holds = holdsBetween(snapshot, firstEdge, domains)
  const old = domains.heads.length
  const { idom, order } = dominatorTree(holdGraph(holds, old), old)
  // Per vertex: the leaking object nearest the old world on its chain of dominators, NONE for none.
  const topLeak = new Uint32Array(old).fill(NONE)
  for (let k = 0; k < order.length; k++) {
    const v = order[k] as number
    if (v === old) continue
    const d = idom[v] as number
    const above = d === old ? NONE : topLeak[d] as number
    topLeak[v] = above === NONE && v < leaking.length ? v : above
  }
  carrySharedObjects(holds, topLeak, leaking.length)
  const nested = new Uint8Array(leaking.length)
  leaking.forEach((node, i) => { nested[i] = (domains.domain[dominators.idom[node] as number] as number) < leaking.length ? 1 : 0 })
  return { rootOf: topLeak.slice(0, leaking.length), nested }
}

/**
 * A leaking object that only leaking objects hold (nothing old, not the runtime), but two or more
 * of them, has the old world as its dominator in the holds (a number's string that two leaked
 * records' texts share): it is alive only because of them all the same, and is carried by the
 * first of them that is carried or a root. Repeated while that makes others carried.
 */
function carrySharedObjects ({ by, from, to }: Holds, topLeak: Uint32Array, leakingCount: number): void {
  // Held through a new node that no leaking object carries (the new backing store of an old Map:
  // its keys) is held by the old world: a collection's entry, not a shared part.
  const heldByOld = new Uint8Array(leakingCount)
  for (let k = 0; k < from.length; k++) {
    const v = to[k] as number
    if (v < leakingCount && topLeak[from[k] as number] === NONE) heldByOld[v] = 1
  }
  for (let changed = true; changed;) {
    changed = false
    for (let k = 0; k < from.length; k++) {
      const v = to[k] as number
      if (v >= leakingCount || topLeak[v] !== v || by[v] !== HELD_BY_LEAK || heldByOld[v] === 1) continue
      // to the root the holder is carried by now, so that no chain turns back on itself
      let top = topLeak[from[k] as number] as number
      while (top !== NONE && topLeak[top] !== top) top = topLeak[top] as number
      if (top === NONE || top === v) continue
      topLeak[v] = top
      changed = true
    }
  }
  // A root carried since by another carries what it carried along: every chain ends at a root.
  for (let v = 0; v < leakingCount; v++) {
    let top = topLeak[v] as number
    while (top !== NONE && topLeak[top] !== top) top = topLeak[top] as number
    topLeak[v] = top
  }
}

interface Domains {
  /**
   * Per vertex of the holds: the node at its head. First the leaking objects, in their order;
   * then the connectors: new nodes that no leaking object dominates (a closure's context shared
   * by two leaking objects' callbacks, the new backing store of an old array), through which
   * leaking objects may still hold others.
   */
  readonly heads: Uint32Array
  /** Per node: the vertex whose head is the nearest above it in the dominator tree, or itself; NONE for the old world. */
  readonly domain: Uint32Array
}

function leakDomains (snapshot: HeapSnapshot, dominators: Dominators, births: Uint8Array, leaking: Uint32Array): Domains {
  const { idom, order } = dominators
  const domain = new Uint32Array(snapshot.nodeCount).fill(NONE)
  leaking.forEach((node, i) => { domain[node] = i })
  let heads: Uint32Array = new Uint32Array(Math.max(16, leaking.length * 2))
  heads.set(leaking)
  let count = leaking.length
  for (let k = 0; k < order.length; k++) {
    const node = order[k] as number
    if (node === snapshot.rootOrdinal || domain[node] !== NONE) continue
    const above = domain[idom[node] as number] as number
    if (above !== NONE || births[node] === 0) {
      domain[node] = above
      continue
    }
    if (count === heads.length) heads = grown(heads)
    heads[count] = node
    domain[node] = count++
  }
  return { heads: heads.subarray(0, count), domain }
}

interface Holds {
  /** Per vertex: HELD_BY_* bits. */
  readonly by: Uint8Array
  /** Holds between vertices, `from[k]` holding `to[k]`. */
  readonly from: Uint32Array
  readonly to: Uint32Array
}

function holdsBetween (snapshot: HeapSnapshot, firstEdge: Uint32Array, { heads, domain }: Domains): Holds {
  const { nodeCount, edgeToNode, edgeType, rootOrdinal } = snapshot
  const essential = essentialEdges(snapshot, firstEdge)
  const shortcut = snapshot.edgeTypeNames.indexOf('shortcut')
  const isTimer = timerNodes(snapshot)
  const by = new Uint8Array(heads.length)
  let from: Uint32Array = new Uint32Array(Math.max(16, heads.length))
  let to: Uint32Array = new Uint32Array(from.length)
  let length = 0
  for (let u = 0; u < nodeCount; u++) {
    const holder = domain[u] as number
    for (let e = firstEdge[u] as number, end = firstEdge[u + 1] as number; e < end; e++) {
      if (essential[e] === 0) continue
      const target = edgeToNode[e] as number
      const held = domain[target] as number
      if (held === NONE || heads[held] !== target || held === holder) continue
      if ((u === rootOrdinal && edgeType[e] !== shortcut) || (isTimer(u) && isTimer(target))) {
        by[held] = (by[held] as number) | HELD_BY_RUNTIME
      } else if (holder === NONE) {
        by[held] = (by[held] as number) | HELD_BY_OLD
      } else {
        by[held] = (by[held] as number) | HELD_BY_LEAK
        if (length === from.length) {
          from = grown(from)
          to = grown(to)
        }
        from[length] = holder
        to[length++] = held
      }
    }
  }
  return { by, from: from.subarray(0, length), to: to.subarray(0, length) }
}

function timerNodes (snapshot: HeapSnapshot): (node: number) => boolean {
  const object = snapshot.nodeTypeNames.indexOf('object')
  const names = new Uint8Array(snapshot.strings.length)
  snapshot.strings.forEach((name, i) => { if (TIMER_CLASSES.has(name)) names[i] = 1 })
  return (node) => snapshot.nodeType[node] === object && names[snapshot.nodeName[node] as number] === 1
}

function grown (array: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(array.length * 2)
  bigger.set(array)
  return bigger
}

/**
 * The holds as a graph in compressed rows, vertex `old` (the last) for the old world. The old
 * world holds what it holds and what no other leaking object does; then, what it does not reach
 * that way but the runtime holds (a cycle of objects only pending timers keep alive).
 */
function holdGraph (holds: Holds, old: number): Digraph {
  const { by, from, to } = holds
  const firstEdge = new Uint32Array(old + 2)
  for (let k = 0; k < from.length; k++) {
    const row = (from[k] as number) + 1
    firstEdge[row] = (firstEdge[row] as number) + 1
  }
  for (let v = 0; v < old; v++) firstEdge[v + 1] = (firstEdge[v + 1] as number) + (firstEdge[v] as number)
  const edgeTo = new Uint32Array(from.length + old)
  const fill = firstEdge.slice(0, old)
  for (let k = 0; k < from.length; k++) {
    const v = from[k] as number
    edgeTo[fill[v] as number] = to[k] as number
    fill[v] = (fill[v] as number) + 1
  }
  let end = from.length
  const reached = new Uint8Array(old)
  const enter = (v: number): void => {
    edgeTo[end++] = v
    reached[v] = 1
  }
  for (let v = 0; v < old; v++) {
    const held = by[v] as number
    if ((held & HELD_BY_OLD) !== 0 || (held & HELD_BY_LEAK) === 0) enter(v)
  }
  const reach = (start: number): void => {
    const stack = [start]
    while (stack.length > 0) {
      const v = stack.pop() as number
      for (let e = firstEdge[v] as number; e < (firstEdge[v + 1] as number); e++) {
        const w = edgeTo[e] as number
        if (reached[w] === 1) continue
        reached[w] = 1
        stack.push(w)
      }
    }
  }
  for (let k = from.length; k < end; k++) reach(edgeTo[k] as number)
  for (let v = 0; v < old; v++) {
    if (reached[v] === 0 && ((by[v] as number) & HELD_BY_RUNTIME) !== 0) {
      enter(v)
      reach(v)
    }
  }
  firstEdge[old + 1] = end
  const used = edgeTo.subarray(0, end)
  return { nodeCount: old + 1, firstEdge, edgeTo: used, retains: new Uint8Array(end).fill(1) }
}
