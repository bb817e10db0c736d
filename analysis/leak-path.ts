import { TIMER_CLASSES } from './path-detours.js'
import type { RetainerStep } from './retainer-paths.js'

/**
 * `dictionary`: a plain object used as a map (dictionary mode, `Object.create(null)`), its keys
 * data; `timers`: Node's timer lists holding the leaking timers themselves; `promise`: the
 * reactions (`then`, `await`) a promise that never settles keeps.
 */
export type CollectionKind = 'Map' | 'Set' | 'Array' | 'dictionary' | 'listeners' | 'timers' | 'promise' | 'closure' | 'property' | 'other'

/** What holds the leaking objects: the collection and how to find it. */
export interface LeakCollection {
  readonly kind: CollectionKind
  /** Where it is, e.g. `Store.sessions → Map`, `Counter.hashMap`, `Bus._events.tick`, `onTick() ->ctx`. */
  readonly label: string
  /** Its entries in the last snapshot (keys of a dictionary, elements of an array), when the finder found the collection itself. */
  readonly entries?: number
  /** Its retained size in the last snapshot, in bytes, when the finder found the collection itself. */
  readonly retainedBytes?: number
  /**
   * The variable of a module or function scope that holds it (or its holder) on the path, and the
   * file of the function whose scope that is: `customerLookups` in `app.mjs`.
   */
  readonly variable?: { readonly name: string, readonly file?: string }
  /**
   * True when the collection is new at each update (`list = [...list, x]`, `pending =
   * batch.concat(pending)`): `label` then names the way to it from what exists in every snapshot
   * (`SpanExporter.pending`, `variable store.audits`).
   */
  readonly replacedOnUpdate?: boolean
  /** The suspended function (`async` at an `await`, a generator at a `yield`) whose local holds it. */
  readonly localOf?: { readonly name: string, readonly file?: string }
}

const PLAIN_NAME = /^\.[A-Za-z_$][A-Za-z_$]*$/
const MAP_CLASSES: ReadonlySet<string> = new Set(['Map', 'WeakMap'])
const SET_CLASSES: ReadonlySet<string> = new Set(['Set', 'WeakSet'])
// How far up from the leaking object a collection still counts as the one holding it: the
// steps in between are V8's own (a backing store, a hash table, a context).
const HOLDER_REACH = 4

/**
 * A retainer path reduced to what is the same for every object leaking the same way: indexes,
 * and property names that look like data (ids, keys with digits), become `[]`; a run of the
 * same step (a linked list) is shown once. The root's synthetic steps are left out.
 */
export function pathShape (steps: readonly RetainerStep[]): string {
  const parts: string[] = []
  for (const step of steps) {
    if (step.nodeType === 'synthetic') continue
    const part = step.edge === null ? step.label : step.label + edgeShape(step.edge, step.edgeType)
    if (parts[parts.length - 1] !== part) parts.push(part)
  }
  return parts.join(' → ')
}

function edgeShape (edge: string, type: string | null): string {
  if (type === 'element') return '[]'
  if (type === 'hidden' || (type === 'internal' && /\d/.test(edge))) return '{}'
  if (type === 'property' && !PLAIN_NAME.test(edge)) return '[]'
  return edge
}

/** The collection that holds the last step of the path, judged from the few steps above it. */
export function leakCollection (steps: readonly RetainerStep[]): LeakCollection {
  const last = steps.length - 1
  const near = steps.slice(Math.max(0, last - HOLDER_REACH), last)
  const events = near.findIndex((step) => step.edge === '._events')
  if (events !== -1) return { kind: 'listeners', label: stepsText(near.slice(events, events + 2)) }
  // Only new timers are a timer leak: a path that merely passes a timer's callback (a cache's
  // check timer bound to the cache) says nothing about what holds the objects.
  if (TIMER_CLASSES.has((steps[last] as RetainerStep).label)) {
    const timer = near.findLast((step) => TIMER_CLASSES.has(step.label))
    return { kind: 'timers', label: stepsText(timer === undefined ? near.slice(-1) : near.slice(Math.max(0, near.indexOf(timer) - 1))) }
  }
  const reactions = near.findLastIndex((step) => step.edge === '{reactions_or_result}')
  if (reactions !== -1) return { kind: 'promise', label: stepsText(near.slice(Math.max(0, reactions - 1), reactions + 1), true) }
  for (let i = near.length - 1; i >= 0; i--) {
    const step = near[i] as RetainerStep
    const text = stepsText(near.slice(Math.max(0, i - 1), i + 1), true)
    if (isDictionaryStep(step)) return { kind: 'dictionary', label: holderName(steps, last - near.length + i) }
    if (MAP_CLASSES.has(step.label)) return { kind: 'Map', label: text }
    if (SET_CLASSES.has(step.label)) return { kind: 'Set', label: text }
    if (step.label === 'Array') return { kind: 'Array', label: text }
    if (step.edgeType === 'context') return { kind: 'closure', label: stepsText(near.slice(Math.max(0, i - 1), i + 1)) }
    if (step.nodeType === 'object' && !step.label.startsWith('system / ')) break
  }
  const holder = steps[last - 1]
  if (holder !== undefined && holder.edgeType === 'property') return { kind: 'property', label: stepsText([holder]) }
  return { kind: 'other', label: holder === undefined ? '' : stepsText([holder]) }
}

/** An object reached by a data-like key, or through the `{properties}` store that holds its keys. */
function isDictionaryStep (step: RetainerStep): boolean {
  if (step.nodeType !== 'object' || step.label.startsWith('system / ') || step.edge === null) return false
  return step.edge === '{properties}' || (step.edgeType === 'property' && !PLAIN_NAME.test(step.edge)) || (step.edgeType === 'element' && step.label === 'Object')
}

/** A collection named by what holds it: `Counter.hashMap`, or the variable of a module or closure (`cache`). */
function holderName (steps: readonly RetainerStep[], at: number): string {
  const holder = steps[at - 1]
  const collection = steps[at] as RetainerStep
  if (holder === undefined || holder.edge === null) return collection.label
  if (holder.edgeType === 'context') return `variable ${holder.edge.slice(2)}`
  return holder.label + holder.edge
}

function stepsText (steps: readonly RetainerStep[], bareLast = false): string {
  return steps.map((step, i) => bareLast && i === steps.length - 1 ? step.label : step.label + (step.edge ?? '')).join(' → ')
}
