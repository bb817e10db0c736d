import { RetainerEdgeFilter } from './retainer-edge-filter.js'
import type { HeapSnapshot } from './snapshot.js'
import { userRoots } from './user-roots.js'

export const UNREACHED = 0xffffffff

/** Shortest retainer paths from the root to every node, as parent pointers. */
export interface RetainerTree {
  /** The node each node is first reached from; the root's is itself, UNREACHED for none. */
  readonly parent: Uint32Array
  /**
   * The edge from `parent`. For a global object that the root marks through its native context
   * (V8 14 and later, see userRoots), the root's edge to that context.
   */
  readonly parentEdge: Uint32Array
  /** Reached nodes in breadth-first order (nearest to the root first). */
  readonly order: Uint32Array
  /** How many entries of `order` are used. */
  readonly reached: number
}

/**
 * A breadth-first walk over the edges a retainer path may follow (see RetainerEdgeFilter), and
 * not `avoids`. As DevTools does for distances, objects reachable from the global objects (the
 * root's user roots, see userRoots) are reached from there first, each global object straight
 * from the root whatever the snapshot's layout; only what they do not reach is then walked from
 * the root's system entries ((GC roots), C++ roots...).
 */
export function buildRetainerTree (snapshot: HeapSnapshot, firstEdge: Uint32Array, avoids?: (edge: number) => boolean): RetainerTree {
  const { nodeCount, edgeToNode, rootOrdinal } = snapshot
  const filter = new RetainerEdgeFilter(snapshot)
  const parent = new Uint32Array(nodeCount).fill(UNREACHED)
  const parentEdge = new Uint32Array(nodeCount)
  const order = new Uint32Array(nodeCount)
  let head = 0
  let tail = 0
  const expand = (from: number): void => {
    for (let e = firstEdge[from] as number, end = firstEdge[from + 1] as number; e < end; e++) {
      const to = edgeToNode[e] as number
      if (parent[to] !== UNREACHED || filter.skips(from, e) || avoids?.(e) === true) continue
      parent[to] = from
      parentEdge[to] = e
      order[tail++] = to
    }
  }
  parent[rootOrdinal] = rootOrdinal
  for (const { node, edge } of userRoots(snapshot, firstEdge)) {
    if (parent[node] !== UNREACHED || filter.skips(rootOrdinal, edge) || avoids?.(edge) === true) continue
    parent[node] = rootOrdinal
    parentEdge[node] = edge
    order[tail++] = node
  }
  for (let phase = 0; phase < 2; phase++) {
    if (phase === 1) expand(rootOrdinal)
    while (head < tail) expand(order[head++] as number)
  }
  return { parent, parentEdge, order, reached: tail }
}
