import { dominatorTree } from './dominator-tree.js'
import { edgeStarts } from './edge-starts.js'
import { essentialEdges } from './essential-edges.js'
import { shallowSizes } from './shallow-sizes.js'
import type { HeapSnapshot } from './snapshot.js'

/** The dominator tree of a snapshot and what it gives: retained sizes. All per node ordinal. */
export interface Dominators {
  /** Immediate dominator of each node; the root is its own. */
  readonly idom: Uint32Array
  /** Self size as DevTools shows it (internal arrays counted in their single owner). */
  readonly selfSize: Float64Array
  /** Self size plus the retained sizes of the nodes it immediately dominates. */
  readonly retainedSize: Float64Array
  /** Every node, each after its dominator (the depth-first order of the walk from the root). */
  readonly order: Uint32Array
}

/**
 * The dominator tree over the essential edges (see `essentialEdges`), as Chrome DevTools
 * computes it (`HeapSnapshot.calculateDominatorsAndRetainedSizes`), and the retained sizes.
 * Everything lives in typed arrays of node or edge length (about 50 bytes per node plus 9 per edge).
 */
export function computeDominators (snapshot: HeapSnapshot): Dominators {
  const firstEdge = edgeStarts(snapshot.nodeEdgeCount)
  // First, so that its scratch arrays are garbage before the big ones below are made.
  const selfSize = shallowSizes(snapshot, firstEdge)
  const retains = essentialEdges(snapshot, firstEdge)
  const { idom, order } = dominatorTree({ nodeCount: snapshot.nodeCount, firstEdge, edgeTo: snapshot.edgeToNode, retains }, snapshot.rootOrdinal)
  const retainedSize = Float64Array.from(selfSize)
  for (let i = order.length - 1; i > 0; i--) {
    const ordinal = order[i] as number
    const d = idom[ordinal] as number
    retainedSize[d] = (retainedSize[d] as number) + (retainedSize[ordinal] as number)
  }
  return { idom, selfSize, retainedSize, order }
}
