import { NodeKind } from './node-kinds.js'
import type { RetainerTree } from './retainer-tree.js'
import { UNREACHED } from './retainer-tree.js'
import type { HeapSnapshot } from './snapshot.js'

export const NO_COLLECTION = 0xffffffff

// How many of V8's own steps (a backing store, a hash table) may lie between a collection and
// what it holds: a Map's `{table}` then its slot, an object's `{properties}` then its slot.
const INTERNAL_STEPS = 2
// A property name that reads as a name a person wrote (`sessions`, `_events`), not as data (`/items/17`, `user-42`).
const PLAIN_NAME = /^[A-Za-z_$][A-Za-z_$]*$/
const SLOT = /^\d+$/
const STORES: ReadonlySet<string> = new Set(['properties', 'elements', 'table'])

/**
 * The old collection that holds a new object as an entry (its key, its value, or a part of V8's
 * storage of them), NO_COLLECTION for none: the object above it on its shortest retainer path
 * (past at most INTERNAL_STEPS of V8's own nodes, not a closure's context), reached by an
 * element, a slot of a backing store, or a property whose name is data. A dictionary-mode object
 * or an `Object.create(null)` map holds its keys in `{properties}` and its values by their keys;
 * a Map holds both in its `{table}`: either way one collection.
 */
export function collectionOf (snapshot: HeapSnapshot, tree: RetainerTree, kinds: Uint8Array, births: Uint8Array, node: number): number {
  let at = node
  let dataEdge = false
  for (let step = 0; step <= INTERNAL_STEPS; step++) {
    const up = tree.parent[at] as number
    if (up === UNREACHED || up === snapshot.rootOrdinal) return NO_COLLECTION
    const edge = tree.parentEdge[at] as number
    const type = snapshot.edgeTypeNames[snapshot.edgeType[edge] as number]
    const name = type === 'property' || type === 'internal' ? snapshot.strings[snapshot.edgeNameOrIndex[edge] as number] as string : ''
    // A backing store's slots are internal edges named by their index.
    if (type === 'element' || type === 'hidden' || (type === 'property' && !PLAIN_NAME.test(name)) || (type === 'internal' && SLOT.test(name))) dataEdge = true
    else if (type !== 'internal') return NO_COLLECTION
    const label = snapshot.strings[snapshot.nodeName[up] as number] as string
    if (kinds[up] === NodeKind.INTERNAL) {
      if (label.startsWith('system / Context')) return NO_COLLECTION
      at = up
      continue
    }
    if (kinds[up] === NodeKind.DATA || births[up] !== 0 || !dataEdge) return NO_COLLECTION
    // Through V8's nodes only by a backing store of the collection (not a promise's reaction list).
    return at === node || (type === 'internal' && STORES.has(name)) ? up : NO_COLLECTION
  }
  return NO_COLLECTION
}
