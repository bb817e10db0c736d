import type { HeapSnapshot } from './snapshot.js'

const UNVISITED = 0xffffffff
const MULTIPLE_OWNERS = 0xfffffffe

/**
 * Self sizes as Chrome DevTools shows them (`JSHeapSnapshot.calculateShallowSizes`): an
 * internal array or hidden node (a backing store, a descriptor array, external string data)
 * reached through non-weak edges from exactly one other object counts in that object's self
 * size, not its own. Snapshots without user roots (taken with internals exposed) keep V8's sizes.
 */
export function shallowSizes (snapshot: HeapSnapshot, firstEdge: Uint32Array): Float64Array {
  const sizes = Float64Array.from(snapshot.nodeSelfSize)
  if (!hasUserRoots(snapshot, firstEdge)) return sizes
  const { nodeCount, nodeType, nodeName, edgeType, edgeToNode, strings } = snapshot
  const hidden = snapshot.nodeTypeNames.indexOf('hidden')
  const array = snapshot.nodeTypeNames.indexOf('array')
  const native = snapshot.nodeTypeNames.indexOf('native')
  const synthetic = snapshot.nodeTypeNames.indexOf('synthetic')
  const weak = snapshot.edgeTypeNames.indexOf('weak')
  const owners = new Uint32Array(nodeCount)
  // A node enters the worklist at most twice: when it gets an owner, and when it gets a second one.
  const worklist = new Uint32Array(2 * nodeCount)
  let top = 0
  for (let i = 0; i < nodeCount; i++) {
    const type = nodeType[i]
    if (type === hidden || type === array || (type === native && strings[nodeName[i] as number] === 'system / ExternalStringData')) {
      owners[i] = UNVISITED
    } else {
      owners[i] = i
      worklist[top++] = i
    }
  }
  while (top > 0) {
    const node = worklist[--top] as number
    const owner = owners[node] as number
    for (let e = firstEdge[node] as number, end = firstEdge[node + 1] as number; e < end; e++) {
      if (edgeType[e] === weak) continue
      const target = edgeToNode[e] as number
      const current = owners[target] as number
      if (current === UNVISITED) {
        owners[target] = owner
        worklist[top++] = target
      } else if (current !== target && current !== owner && current !== MULTIPLE_OWNERS) {
        owners[target] = MULTIPLE_OWNERS
        worklist[top++] = target
      }
    }
  }
  for (let i = 0; i < nodeCount; i++) {
    const owner = owners[i] as number
    if (owner === UNVISITED || owner === MULTIPLE_OWNERS || owner === i) continue
    // Adding a size to the root or a synthetic node would tell nobody anything.
    if (nodeType[owner] === synthetic || owner === snapshot.rootOrdinal) continue
    sizes[owner] = (sizes[owner] as number) + (sizes[i] as number)
    sizes[i] = 0
  }
  return sizes
}

function hasUserRoots (snapshot: HeapSnapshot, firstEdge: Uint32Array): boolean {
  const synthetic = snapshot.nodeTypeNames.indexOf('synthetic')
  const root = snapshot.rootOrdinal
  for (let e = firstEdge[root] as number, end = firstEdge[root + 1] as number; e < end; e++) {
    if (snapshot.nodeType[snapshot.edgeToNode[e] as number] !== synthetic) return true
  }
  return false
}
