import { HeapSnapshotFormatError } from './errors.js'

/** Where each field we use sits in a node row and an edge row, from `snapshot.meta`. */
export interface SnapshotLayout {
  readonly nodeCount: number
  readonly edgeCount: number
  readonly nodeFieldCount: number
  readonly edgeFieldCount: number
  readonly nodeTypeNames: readonly string[]
  readonly edgeTypeNames: readonly string[]
  readonly node: { readonly type: number, readonly name: number, readonly id: number, readonly selfSize: number, readonly edgeCount: number }
  readonly edge: { readonly type: number, readonly nameOrIndex: number, readonly toNode: number }
  /** `snapshot.root_index` (a position in the nodes array, not an ordinal), 0 when absent. */
  readonly rootIndex: number
}

/** Parses the text of the `"snapshot": {...}` header. */
export function parseSnapshotHeader (text: string): SnapshotLayout {
  let header: unknown
  try {
    header = JSON.parse(text)
  } catch (err) {
    throw notSnapshot('the "snapshot" header is not valid JSON', err)
  }
  const meta = field(header, 'meta', 'snapshot')
  const nodeFields = stringArray(field(meta, 'node_fields', 'snapshot.meta'), 'snapshot.meta.node_fields')
  const edgeFields = stringArray(field(meta, 'edge_fields', 'snapshot.meta'), 'snapshot.meta.edge_fields')
  const node = {
    type: offsetOf(nodeFields, 'type', 'node_fields'),
    name: offsetOf(nodeFields, 'name', 'node_fields'),
    id: offsetOf(nodeFields, 'id', 'node_fields'),
    selfSize: offsetOf(nodeFields, 'self_size', 'node_fields'),
    edgeCount: offsetOf(nodeFields, 'edge_count', 'node_fields')
  }
  const edge = {
    type: offsetOf(edgeFields, 'type', 'edge_fields'),
    nameOrIndex: offsetOf(edgeFields, 'name_or_index', 'edge_fields'),
    toNode: offsetOf(edgeFields, 'to_node', 'edge_fields')
  }
  const nodeTypes = field(meta, 'node_types', 'snapshot.meta')
  const edgeTypes = field(meta, 'edge_types', 'snapshot.meta')
  return {
    nodeCount: count(field(header, 'node_count', 'snapshot'), 'snapshot.node_count'),
    edgeCount: count(field(header, 'edge_count', 'snapshot'), 'snapshot.edge_count'),
    nodeFieldCount: nodeFields.length,
    edgeFieldCount: edgeFields.length,
    nodeTypeNames: stringArray(elementOf(nodeTypes, node.type), 'snapshot.meta.node_types[type]'),
    edgeTypeNames: stringArray(elementOf(edgeTypes, edge.type), 'snapshot.meta.edge_types[type]'),
    node,
    edge,
    rootIndex: rootIndexOf(header, nodeFields.length)
  }
}

function notSnapshot (why: string, cause?: unknown): Error {
  return cause === undefined
    ? new HeapSnapshotFormatError(`not a V8 heap snapshot: ${why}`)
    : new HeapSnapshotFormatError(`not a V8 heap snapshot: ${why}`, { cause })
}

function field (value: unknown, key: string, where: string): unknown {
  if (typeof value !== 'object' || value === null || !(key in value)) {
    throw notSnapshot(`${where} has no "${key}"`)
  }
  return (value as Record<string, unknown>)[key]
}

function elementOf (value: unknown, index: number): unknown {
  return Array.isArray(value) ? value[index] : undefined
}

function stringArray (value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw notSnapshot(`${where} is not a list of names`)
  }
  return value
}

function offsetOf (fields: readonly string[], name: string, where: string): number {
  const offset = fields.indexOf(name)
  if (offset === -1) throw notSnapshot(`snapshot.meta.${where} lacks "${name}"`)
  return offset
}

function count (value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw notSnapshot(`${where} is not a count`)
  return value as number
}

function rootIndexOf (header: unknown, nodeFieldCount: number): number {
  const value = (header as Record<string, unknown>)['root_index'] ?? 0
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) % nodeFieldCount !== 0) {
    throw notSnapshot('snapshot.root_index is not a node position')
  }
  return value as number
}
