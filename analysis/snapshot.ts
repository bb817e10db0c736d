/**
 * A parsed V8 heap snapshot, stored column by column in typed arrays (one entry per node or
 * per edge) so that memory stays proportional to the node and edge counts.
 */
export interface HeapSnapshot {
  readonly nodeCount: number
  /** From the header; the edge columns are empty when the parser was asked to skip edges. */
  readonly edgeCount: number
  /** `snapshot.meta.node_types[type]`, e.g. `['hidden', 'array', 'string', 'object', ...]`. */
  readonly nodeTypeNames: readonly string[]
  /** `snapshot.meta.edge_types[type]`, e.g. `['context', 'element', 'property', ...]`. */
  readonly edgeTypeNames: readonly string[]
  readonly nodeType: Uint8Array
  /** Index into `strings`. */
  readonly nodeName: Uint32Array
  /** V8's object id, stable across snapshots of the same process. */
  readonly nodeId: Uint32Array
  readonly nodeSelfSize: Float64Array
  readonly nodeEdgeCount: Uint32Array
  readonly edgeType: Uint8Array
  /** Index into `strings`, or the element index for `element` and `hidden` edges. */
  readonly edgeNameOrIndex: Uint32Array
  /** Ordinal of the target node (the file stores ordinal × node field count). */
  readonly edgeToNode: Uint32Array
  readonly strings: readonly string[]
  readonly rootOrdinal: number
}

/** Edge types whose `name_or_index` is a number rather than a string index. */
export const INDEXED_EDGE_TYPES: ReadonlySet<string> = new Set(['element', 'hidden'])
