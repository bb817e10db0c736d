import type { HeapSnapshot } from './snapshot.js'
import { INDEXED_EDGE_TYPES } from './snapshot.js'

// "12 / part of key (Foo @45) -> value (Bar @67) pair in WeakMap (table @89)"
const WEAK_MAP_ENTRY = /^\d+ \/ part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(\d+)\)$/

/**
 * Which edges a retainer path may not follow. The rules are those DevTools applies when it
 * computes distances (`JSHeapSnapshot.calculateDistances`) and dominators (`isEssentialEdge`):
 * - weak edges retain nothing;
 * - `shortcut` edges, except from the root (where they mark the global objects), duplicate a
 *   real path and would hide it;
 * - a WeakMap value is reached through its key, not through the WeakMap's backing table
 *   (both retain it; the key is the one that explains why it is alive);
 * - `sloppy_function_map` of a NativeContext and the odd slots of `(map descriptors)` arrays,
 *   which V8 shares between maps, lead to objects that merely look retained through them.
 */
export class RetainerEdgeFilter {
  readonly #snapshot: HeapSnapshot
  readonly #weak: number
  readonly #shortcut: number
  readonly #internal: number
  readonly #hiddenNode: number
  readonly #arrayNode: number
  readonly #nativeContext: ReadonlySet<number>
  readonly #sloppyFunctionMap: ReadonlySet<number>
  readonly #mapDescriptors: ReadonlySet<number>
  readonly #indexedEdgeType: readonly boolean[]
  /** Per string: the WeakMap table id its edge name mentions, -1 for none, NaN until looked at. */
  readonly #weakMapTables: Float64Array

  constructor (snapshot: HeapSnapshot) {
    this.#snapshot = snapshot
    this.#weak = snapshot.edgeTypeNames.indexOf('weak')
    this.#shortcut = snapshot.edgeTypeNames.indexOf('shortcut')
    this.#internal = snapshot.edgeTypeNames.indexOf('internal')
    this.#hiddenNode = snapshot.nodeTypeNames.indexOf('hidden')
    this.#arrayNode = snapshot.nodeTypeNames.indexOf('array')
    this.#nativeContext = stringIndexes(snapshot.strings, 'system / NativeContext')
    this.#sloppyFunctionMap = stringIndexes(snapshot.strings, 'sloppy_function_map')
    this.#mapDescriptors = stringIndexes(snapshot.strings, '(map descriptors)')
    this.#indexedEdgeType = snapshot.edgeTypeNames.map((name) => INDEXED_EDGE_TYPES.has(name))
    this.#weakMapTables = new Float64Array(snapshot.strings.length).fill(Number.NaN)
  }

  /** True when the path must not go along `edge` out of node `from`. */
  skips (from: number, edge: number): boolean {
    const s = this.#snapshot
    const type = s.edgeType[edge]
    if (type === this.#weak) return true
    if (type === this.#shortcut) return from !== s.rootOrdinal
    if (type === this.#internal && this.#isWeakMapTableEdge(from, edge)) return true
    const nodeType = s.nodeType[from]
    if (nodeType === this.#hiddenNode) {
      return this.#nativeContext.has(s.nodeName[from] as number) && this.#sloppyFunctionMap.has(s.edgeNameOrIndex[edge] as number)
    }
    if (nodeType === this.#arrayNode && this.#mapDescriptors.has(s.nodeName[from] as number)) {
      const index = this.#edgeIndex(edge)
      return index >= 2 && index % 3 === 1
    }
    return false
  }

  #isWeakMapTableEdge (from: number, edge: number): boolean {
    const name = this.#snapshot.edgeNameOrIndex[edge] as number
    let tableId = this.#weakMapTables[name] as number
    if (Number.isNaN(tableId)) {
      const match = WEAK_MAP_ENTRY.exec(this.#snapshot.strings[name] as string)
      tableId = this.#weakMapTables[name] = match === null ? -1 : Number(match[1])
    }
    return tableId === this.#snapshot.nodeId[from]
  }

  #edgeIndex (edge: number): number {
    const s = this.#snapshot
    const nameOrIndex = s.edgeNameOrIndex[edge] as number
    return this.#indexedEdgeType[s.edgeType[edge] as number] === true ? nameOrIndex : Number.parseInt(s.strings[nameOrIndex] as string, 10)
  }
}

function stringIndexes (strings: readonly string[], value: string): ReadonlySet<number> {
  const indexes = new Set<number>()
  for (let i = 0; i < strings.length; i++) if (strings[i] === value) indexes.add(i)
  return indexes
}
