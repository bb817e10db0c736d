import type { HeapSnapshot } from './snapshot.js'

/** A global object and the root's edge that marks it. */
export interface UserRoot {
  readonly node: number
  /** The root's edge to the node, or to the native context that the node is the global object of. */
  readonly edge: number
}

/**
 * The global objects a retainer path starts from (`global.cache`), one per JavaScript context
 * (the main one, each `vm` context). DevTools takes as user roots the root's entries that are
 * not synthetic (`isUserRoot`), which V8 marks with `shortcut` edges. Up to V8 13 (Node 24 and
 * older) they are the global objects themselves (named `global`). From V8 14 (Node 26) they are
 * the contexts' `system / NativeContext`, and the global object (named `global (global*)`, its
 * proxy `global (global)`) is the context's `global_object` slot: such an entry stands for its
 * global object here, so that paths read as they did. Told apart by structure, not by version.
 */
export function userRoots (snapshot: HeapSnapshot, firstEdge: Uint32Array): UserRoot[] {
  const { rootOrdinal, edgeToNode, nodeType } = snapshot
  const synthetic = snapshot.nodeTypeNames.indexOf('synthetic')
  const roots: UserRoot[] = []
  for (let e = firstEdge[rootOrdinal] as number, end = firstEdge[rootOrdinal + 1] as number; e < end; e++) {
    const entry = edgeToNode[e] as number
    if (nodeType[entry] === synthetic) continue
    roots.push({ node: globalObjectOf(snapshot, firstEdge, entry) ?? entry, edge: e })
  }
  return roots
}

/** The object in `context`'s internal `global_object` slot (a native context's), undefined when it has none. */
function globalObjectOf (snapshot: HeapSnapshot, firstEdge: Uint32Array, context: number): number | undefined {
  const internal = snapshot.edgeTypeNames.indexOf('internal')
  const object = snapshot.nodeTypeNames.indexOf('object')
  for (let e = firstEdge[context] as number, end = firstEdge[context + 1] as number; e < end; e++) {
    if (snapshot.edgeType[e] !== internal || snapshot.strings[snapshot.edgeNameOrIndex[e] as number] !== 'global_object') continue
    const target = snapshot.edgeToNode[e] as number
    if (snapshot.nodeType[target] === object) return target
  }
  return undefined
}
