import type { HeapSnapshot } from './snapshot.js'

/**
 * What a node is to a person reading a leak report:
 * - APP: an object of a named class (the app's, a library's, Node's own: `Session`, `Socket`);
 * - BUILT_IN: an object of a JavaScript built-in (`Object`, `Array`, `Map`), a function, a regexp;
 * - DATA: a string or number value;
 * - INTERNAL: V8's machinery (`(array)` backing stores, `(system)`, `system / Context`, code,
 *   maps), which only matters through the object that owns it.
 */
export const NodeKind = { INTERNAL: 0, DATA: 1, BUILT_IN: 2, APP: 3 } as const

const BUILT_IN_NAMES: ReadonlySet<string> = new Set([
  'Object', 'Array', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Promise', 'Function',
  'Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'Date', 'RegExp', 'ArrayBuffer', 'SharedArrayBuffer',
  'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Buffer', 'FastBuffer', 'Symbol', 'Number', 'String',
  'Boolean', 'BigInt', 'Arguments', 'Generator', 'AsyncGenerator'
])
const DATA_TYPES: ReadonlySet<string> = new Set(['string', 'concatenated string', 'sliced string', 'number', 'bigint', 'symbol'])
const FUNCTION_TYPES: ReadonlySet<string> = new Set(['closure', 'regexp'])
const OBJECT_TYPES: ReadonlySet<string> = new Set(['object', 'native'])

/** The kind of every node, one byte each. */
export function nodeKinds (snapshot: HeapSnapshot): Uint8Array {
  const { nodeCount, nodeType, nodeName, strings } = snapshot
  const kindOfType = snapshot.nodeTypeNames.map((type) =>
    OBJECT_TYPES.has(type) ? -1 : FUNCTION_TYPES.has(type) ? NodeKind.BUILT_IN : DATA_TYPES.has(type) ? NodeKind.DATA : NodeKind.INTERNAL)
  const kindOfName = new Int8Array(strings.length).fill(-1)
  const kinds = new Uint8Array(nodeCount)
  for (let i = 0; i < nodeCount; i++) {
    let kind = kindOfType[nodeType[i] as number] as number
    if (kind === -1) {
      const name = nodeName[i] as number
      kind = kindOfName[name] as number
      if (kind === -1) kind = kindOfName[name] = objectKind(strings[name] as string)
    }
    kinds[i] = kind
  }
  return kinds
}

function objectKind (name: string): number {
  if (name === '' || name.startsWith('system / ') || name.startsWith('(')) return NodeKind.INTERNAL
  return BUILT_IN_NAMES.has(name) ? NodeKind.BUILT_IN : NodeKind.APP
}
