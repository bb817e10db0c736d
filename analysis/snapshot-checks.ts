import { HeapSnapshotFormatError } from './errors.js'
import { INDEXED_EDGE_TYPES } from './snapshot.js'

/** Checks what the edges and the rest of the graph rely on, so a bad file fails here, not deep in a traversal. */
export function checkNodes (nodeName: Uint32Array, nodeEdgeCount: Uint32Array, stringCount: number, edgeCount: number, rootOrdinal: number): void {
  if (nodeName.length === 0) throw notSnapshot('it has no nodes')
  if (rootOrdinal >= nodeName.length) throw notSnapshot(`snapshot.root_index points past the ${nodeName.length} nodes`)
  let edges = 0
  for (let i = 0; i < nodeName.length; i++) {
    if ((nodeName[i] as number) >= stringCount) throw notSnapshot(`node ${i} names string ${nodeName[i]}, there are ${stringCount}`)
    edges += nodeEdgeCount[i] as number
  }
  if (edges !== edgeCount) throw notSnapshot(`the nodes' edge counts add up to ${edges}, snapshot.edge_count says ${edgeCount}`)
}

/**
 * Checks edge targets and names, and turns each `to_node` (a position in the nodes array)
 * into a node ordinal, in place.
 */
export function checkEdges (
  edgeType: Uint8Array, edgeNameOrIndex: Uint32Array, edgeToNode: Uint32Array,
  edgeTypeNames: readonly string[], nodeFieldCount: number, nodeCount: number, stringCount: number
): void {
  const named = edgeTypeNames.map((name) => !INDEXED_EDGE_TYPES.has(name))
  const end = nodeCount * nodeFieldCount
  for (let i = 0; i < edgeToNode.length; i++) {
    const to = edgeToNode[i] as number
    if (to % nodeFieldCount !== 0 || to >= end) throw notSnapshot(`edge ${i} points to ${to}, not to a node`)
    edgeToNode[i] = to / nodeFieldCount
    if (named[edgeType[i] as number] === true && (edgeNameOrIndex[i] as number) >= stringCount) {
      throw notSnapshot(`edge ${i} names string ${edgeNameOrIndex[i]}, there are ${stringCount}`)
    }
  }
}

function notSnapshot (why: string): Error {
  return new HeapSnapshotFormatError(`not a V8 heap snapshot: ${why}`)
}
