import type { HeapSnapshot } from './snapshot.js'

// "12 / part of key (Foo @45) -> value (Bar @67) pair in WeakMap (table @89)"
const WEAK_MAP_ENTRY = /^\d+ \/ part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(\d+)\)$/

/**
 * The edges that retain, for the dominator tree, as Chrome DevTools decides
 * (`HeapSnapshot.computeIsEssentialEdge`): not weak edges, not self edges, not the edge from a
 * WeakMap's table to a value (the key's edge is the one that explains it), not `shortcut`
 * edges except from the root (where they mark the global objects), and not an edge from an
 * object outside the user's graph (what the globals reach) into it, so that what the
 * debugger or V8 also holds is still owned by the user's objects. 1 per essential edge.
 */
export function essentialEdges (snapshot: HeapSnapshot, firstEdge: Uint32Array): Uint8Array {
  const { nodeCount, edgeType, edgeToNode, edgeNameOrIndex, nodeId, rootOrdinal, strings } = snapshot
  const weak = snapshot.edgeTypeNames.indexOf('weak')
  const shortcut = snapshot.edgeTypeNames.indexOf('shortcut')
  const internal = snapshot.edgeTypeNames.indexOf('internal')
  const userOwned = userOwnedNodes(snapshot, firstEdge)
  const weakMapTable = new Float64Array(strings.length).fill(Number.NaN)
  const essential = new Uint8Array(edgeToNode.length)
  for (let node = 0; node < nodeCount; node++) {
    const fromRoot = node === rootOrdinal
    for (let e = firstEdge[node] as number, end = firstEdge[node + 1] as number; e < end; e++) {
      const type = edgeType[e]
      if (type === weak) continue
      if (type === internal) {
        const name = edgeNameOrIndex[e] as number
        let table = weakMapTable[name] as number
        if (Number.isNaN(table)) {
          const match = WEAK_MAP_ENTRY.exec(strings[name] as string)
          table = weakMapTable[name] = match === null ? -1 : Number(match[1])
        }
        if (table === nodeId[node]) continue
      }
      const target = edgeToNode[e] as number
      if (target === node) continue
      if (!fromRoot && (type === shortcut || (userOwned[target] === 1 && userOwned[node] === 0))) continue
      essential[e] = 1
    }
  }
  return essential
}

/**
 * DevTools' "page object" flag: everything reached over non-weak edges from the targets of the
 * root's shortcut edges (the global objects) and from `(Document DOM trees)`.
 */
function userOwnedNodes (snapshot: HeapSnapshot, firstEdge: Uint32Array): Uint8Array {
  const { nodeCount, edgeType, edgeToNode, rootOrdinal, nodeType, nodeName, strings } = snapshot
  const weak = snapshot.edgeTypeNames.indexOf('weak')
  const shortcut = snapshot.edgeTypeNames.indexOf('shortcut')
  const element = snapshot.edgeTypeNames.indexOf('element')
  const synthetic = snapshot.nodeTypeNames.indexOf('synthetic')
  const owned = new Uint8Array(nodeCount)
  const stack = new Uint32Array(nodeCount)
  let top = 0
  for (let e = firstEdge[rootOrdinal] as number, end = firstEdge[rootOrdinal + 1] as number; e < end; e++) {
    const target = edgeToNode[e] as number
    const type = edgeType[e]
    const domTrees = type === element && nodeType[target] === synthetic && strings[nodeName[target] as number] === '(Document DOM trees)'
    if ((type !== shortcut && !domTrees) || owned[target] === 1) continue
    stack[top++] = target
    owned[target] = 1
  }
  while (top > 0) {
    const node = stack[--top] as number
    for (let e = firstEdge[node] as number, end = firstEdge[node + 1] as number; e < end; e++) {
      const target = edgeToNode[e] as number
      if (owned[target] === 1 || edgeType[e] === weak) continue
      owned[target] = 1
      stack[top++] = target
    }
  }
  return owned
}
