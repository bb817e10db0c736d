import type { RetainerStep } from './retainer-paths.js'

export type CollectionKind = 'Map' | 'Set' | 'Array' | 'listeners' | 'timers' | 'closure' | 'property' | 'other'

/** What holds the leaking objects: the collection and how to find it. */
export interface LeakCollection {
  readonly kind: CollectionKind
  /** Where it is, e.g. `Store.sessions → Map`, `Bus._events.tick`, `onTick() ->ctx`. */
  readonly label: string
}

const PLAIN_NAME = /^\.[A-Za-z_$][A-Za-z_$]*$/
/** Node's timers and the lists that hold them while they are pending. */
export const TIMER_CLASSES: ReadonlySet<string> = new Set(['Timeout', 'TimersList', 'Immediate', 'ImmediateList'])
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
  const timer = near.findLast((step) => TIMER_CLASSES.has(step.label))
  if (timer !== undefined) return { kind: 'timers', label: stepsText(near.slice(near.indexOf(timer) - 1)) }
  for (let i = near.length - 1; i >= 0; i--) {
    const step = near[i] as RetainerStep
    const text = stepsText(near.slice(Math.max(0, i - 1), i + 1), true)
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

function stepsText (steps: readonly RetainerStep[], bareLast = false): string {
  return steps.map((step, i) => bareLast && i === steps.length - 1 ? step.label : step.label + (step.edge ?? '')).join(' → ')
}
