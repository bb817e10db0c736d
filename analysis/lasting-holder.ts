import type { DefiningFiles } from './defining-files.js'
import { NodeKind } from './node-kinds.js'
import { edgeLabel, nodeLabel } from './retainer-labels.js'
import type { RetainerTree } from './retainer-tree.js'
import { UNREACHED } from './retainer-tree.js'
import type { HeapSnapshot } from './snapshot.js'

/** What lasts above a leak whose collection is new at each update, and how a person names it. */
export interface LastingHolder {
  /** `SpanExporter.pending`, `variable store.audits`: from the object that exists in every snapshot down to the collection. */
  readonly label: string
  /** The scope variable it starts from (`store`), with the file of its function. */
  readonly variable?: { readonly name: string, readonly file?: string }
}

/** A suspended function (an `async` function at an `await`, a generator at a `yield`) whose local holds the leak. */
export interface SuspendedFunction {
  /** Its name, `(anonymous)` for none. */
  readonly name: string
  readonly file?: string
}

const STORES: ReadonlySet<string> = new Set(['elements', 'table', 'properties'])

// How many objects above the leaking one its collection may be (a Map's table, an array's store are V8's, not objects).
const COLLECTION_REACH = 3

/**
 * When the object that holds `node` (the nearest object above it on its path: an array, a Map,
 * a plain object) is itself new — a collection replaced on each update, as `list = [...list, x]`,
 * `pending = batch.concat(pending)` or `state = { ...state, n }` make one — the way to it from
 * the nearest object or scope that exists in every snapshot. Undefined when the collection is old.
 */
export function lastingHolder (snapshot: HeapSnapshot, tree: RetainerTree, files: DefiningFiles, births: Uint8Array, kinds: Uint8Array, firstEdge: Uint32Array, node: number): LastingHolder | undefined {
  const context = snapshot.edgeTypeNames.indexOf('context')
  const property = snapshot.edgeTypeNames.indexOf('property')
  // The property edges from the lasting holder down to the collection, nearest the collection first.
  const way: string[] = []
  let objects = 0
  for (let below = node, at = tree.parent[node] as number; at !== UNREACHED && at !== snapshot.rootOrdinal; below = at, at = tree.parent[at] as number) {
    const edge = tree.parentEdge[below] as number
    if (objects > 0 && snapshot.edgeType[edge] === property) way.unshift(edgeLabel(snapshot, edge))
    if (snapshot.edgeType[edge] === context) {
      if (objects === 0 || births[at] !== 0) return undefined
      const name = edgeLabel(snapshot, edge).slice(2)
      const fn = tree.parent[at] as number
      const file = fn === UNREACHED ? undefined : files.ofScopeHolder(fn)
      return { label: `variable ${name}${way.join('')}`, variable: file === undefined ? { name } : { name, file } }
    }
    if ((kinds[at] as number) < NodeKind.BUILT_IN) continue
    if (births[at] === 0) return objects === 0 ? undefined : { label: `${nodeLabel(snapshot, at)}${way.join('')}` }
    // A new collection of new entries is new with them (a request's list), not a replaced one.
    if (objects === 0 && !holdsOlderOfItsClass(snapshot, firstEdge, births, at, node)) return undefined
    if (++objects > COLLECTION_REACH) return undefined
  }
  return undefined
}

/**
 * Whether a new object is a collection replaced since (see `holdsOlderOfItsClass`) rather than the
 * object that `node` was made with: remembered per holder for the class last asked about, since a
 * collection's every entry asks.
 */
export class ReplacedHolders {
  readonly #snapshot: HeapSnapshot
  readonly #firstEdge: Uint32Array
  readonly #births: Uint8Array
  /** Per holder asked about: the class last asked for, times 2, plus 1 when it holds older objects of it. */
  readonly #answers = new Map<number, number>()

  constructor (snapshot: HeapSnapshot, firstEdge: Uint32Array, births: Uint8Array) {
    this.#snapshot = snapshot
    this.#firstEdge = firstEdge
    this.#births = births
  }

  /** True when `holder`, new, holds objects of `node`'s class older than itself. */
  holds (holder: number, node: number): boolean {
    const s = this.#snapshot
    const classOf = (s.nodeName[node] as number) * s.nodeTypeNames.length + (s.nodeType[node] as number)
    const known = this.#answers.get(holder)
    if (known !== undefined && Math.floor(known / 2) === classOf) return known % 2 === 1
    const answer = holdsOlderOfItsClass(s, this.#firstEdge, this.#births, holder, node)
    this.#answers.set(holder, classOf * 2 + (answer ? 1 : 0))
    return answer
  }
}

/**
 * Whether the collection holds an object of `like`'s class older than itself, directly or in its
 * backing store: the entries it was made from. A new collection of new entries (a request's
 * list) or a new object pointing at an old shared one (a config) is not a replaced collection.
 */
export function holdsOlderOfItsClass (snapshot: HeapSnapshot, firstEdge: Uint32Array, births: Uint8Array, collection: number, like: number): boolean {
  const born = births[collection] as number
  const internal = snapshot.edgeTypeNames.indexOf('internal')
  const weak = snapshot.edgeTypeNames.indexOf('weak')
  const older = (from: number, depth: number): boolean => {
    for (let e = firstEdge[from] as number, end = firstEdge[from + 1] as number; e < end; e++) {
      if (snapshot.edgeType[e] === weak) continue
      const to = snapshot.edgeToNode[e] as number
      if (snapshot.nodeName[to] === snapshot.nodeName[like] && snapshot.nodeType[to] === snapshot.nodeType[like] && (births[to] as number) < born) return true
      if (depth === 0 && snapshot.edgeType[e] === internal && STORES.has(snapshot.strings[snapshot.edgeNameOrIndex[e] as number] as string) && older(to, 1)) return true
    }
    return false
  }
  return older(collection, 0)
}

// How far above the leaking object a suspended function's registers may be: its collection, V8's store of registers.
const REGISTERS_REACH = 4

/**
 * The suspended function whose locals hold `node`: on its path, a generator object (what V8 keeps
 * of an `async` function at an `await`, of a generator or a `for await` loop at a `yield`) reached
 * through its `parameters_and_registers`, within a few steps above it; named by its `function`.
 */
export function suspendedFunction (snapshot: HeapSnapshot, tree: RetainerTree, files: DefiningFiles, firstEdge: Uint32Array, node: number): SuspendedFunction | undefined {
  const registers = snapshot.strings.indexOf('parameters_and_registers')
  const functionName = snapshot.strings.indexOf('function')
  if (registers === -1) return undefined
  let below = node
  for (let step = 0; step < REGISTERS_REACH; step++) {
    const at = tree.parent[below] as number
    if (at === UNREACHED || at === snapshot.rootOrdinal) return undefined
    if (snapshot.edgeNameOrIndex[tree.parentEdge[below] as number] === registers && snapshot.edgeTypeNames[snapshot.edgeType[tree.parentEdge[below] as number] as number] === 'internal') {
      for (let e = firstEdge[at] as number, end = firstEdge[at + 1] as number; e < end; e++) {
        if (snapshot.edgeNameOrIndex[e] !== functionName || snapshot.edgeTypeNames[snapshot.edgeType[e] as number] !== 'internal') continue
        const fn = snapshot.edgeToNode[e] as number
        const name = snapshot.strings[snapshot.nodeName[fn] as number] as string
        const file = files.of(fn)
        return file === undefined ? { name: name === '' ? '(anonymous)' : name } : { name: name === '' ? '(anonymous)' : name, file }
      }
      return { name: '(anonymous)' }
    }
    below = at
  }
  return undefined
}

/** A WeakMap whose value holds the leak: alive as long as its key is, whatever holds the WeakMap. */
export interface WeakMapEntry {
  /** What holds the WeakMap: `variable byOwner`, `Registry.owners`, or `WeakMap` when the path tells nothing. */
  readonly label: string
  /** The key's class and id (search `@id` in DevTools): what keeps the value alive. */
  readonly key: string
}

const WEAK_MAP_PAIR = /pair in WeakMap \(table @(\d+)\)/

/**
 * When `node` is held through a WeakMap's value (V8 names the edge from the key "part of key …
 * -> value … pair in WeakMap (table @id)"), the WeakMap as a person would find it: the variable or
 * property that holds it, and the key that keeps the value alive.
 */
export function weakMapEntry (snapshot: HeapSnapshot, tree: RetainerTree, node: number): WeakMapEntry | undefined {
  let below = node
  for (let step = 0; step < REGISTERS_REACH; step++) {
    const at = tree.parent[below] as number
    if (at === UNREACHED || at === snapshot.rootOrdinal) return undefined
    const edge = tree.parentEdge[below] as number
    const match = WEAK_MAP_PAIR.exec(snapshot.edgeTypeNames[snapshot.edgeType[edge] as number] === 'internal' ? snapshot.strings[snapshot.edgeNameOrIndex[edge] as number] as string : '')
    if (match !== null) {
      const key = `${nodeLabel(snapshot, at)} @${snapshot.nodeId[at] as number}`
      const table = snapshot.nodeId.indexOf(Number(match[1]))
      const map = table === -1 ? UNREACHED : tree.parent[table] as number
      return { label: map === UNREACHED ? 'WeakMap' : `${holderOf(snapshot, tree, map)}`, key }
    }
    below = at
  }
  return undefined
}

/** `variable name` when a scope holds the object, `Class.property` when an object does, else its label. */
function holderOf (snapshot: HeapSnapshot, tree: RetainerTree, node: number): string {
  const up = tree.parent[node] as number
  if (up === UNREACHED || up === snapshot.rootOrdinal) return nodeLabel(snapshot, node)
  const edge = tree.parentEdge[node] as number
  const type = snapshot.edgeTypeNames[snapshot.edgeType[edge] as number]
  if (type === 'context') return `variable ${edgeLabel(snapshot, edge).slice(2)} → ${nodeLabel(snapshot, node)}`
  if (type === 'property') return `${nodeLabel(snapshot, up)}${edgeLabel(snapshot, edge)} → ${nodeLabel(snapshot, node)}`
  return nodeLabel(snapshot, node)
}
