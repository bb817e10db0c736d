import type { HeapSnapshot } from './snapshot.js'

/** Node's timers and the lists that hold them while they are pending. */
export const TIMER_CLASSES: ReadonlySet<string> = new Set(['Timeout', 'TimersList', 'Immediate', 'ImmediateList'])

/**
 * Node's runtime objects that carry what the app gave them (a callback and what it captures):
 * a path through one of them says how a callback reaches the objects, not what holds them.
 */
export const CARRIER_CLASSES: ReadonlySet<string> = new Set([...TIMER_CLASSES, 'TickObject'])
/** A bound function's receiver, arguments and target (`native_bind(){bound_this}`). */
const BOUND_EDGES: ReadonlySet<string> = new Set(['bound_this', 'bindings', 'bound_function'])
/**
 * Into a function's compiled code: a string literal in a bytecode's constant pool is shared with
 * every string equal to it, and a path through a module's bytecode names the module, not a holder.
 */
const CODE_EDGES: ReadonlySet<string> = new Set(['shared', 'function_data', 'code', 'bytecode'])

/**
 * The edges a preferred retainer path avoids: into a timer, an immediate or a tick (Node's
 * carriers), through a bound function's receiver, arguments or target, and into compiled code
 * (a function's shared info and bytecode). A cache's check timer bound to the cache is a shorter
 * way to the cache's entries than the module variable that holds the cache, and says less about
 * who keeps them.
 */
export class PathDetours {
  readonly #snapshot: HeapSnapshot
  /** Per string index: 1 for the carriers' names, 2 for the bound functions' and the code's edge names. */
  readonly #names: Uint8Array
  readonly #objectType: number
  readonly #internalEdge: number

  constructor (snapshot: HeapSnapshot) {
    this.#snapshot = snapshot
    this.#names = new Uint8Array(snapshot.strings.length)
    snapshot.strings.forEach((name, i) => {
      if (CARRIER_CLASSES.has(name)) this.#names[i] = 1
      else if (BOUND_EDGES.has(name) || CODE_EDGES.has(name)) this.#names[i] = 2
    })
    this.#objectType = snapshot.nodeTypeNames.indexOf('object')
    this.#internalEdge = snapshot.edgeTypeNames.indexOf('internal')
  }

  /** True when `edge` leads into a carrier, through a bound function's bindings or into compiled code. */
  avoids (edge: number): boolean {
    const s = this.#snapshot
    const to = s.edgeToNode[edge] as number
    if (s.nodeType[to] === this.#objectType && this.#names[s.nodeName[to] as number] === 1) return true
    return s.edgeType[edge] === this.#internalEdge && this.#names[s.edgeNameOrIndex[edge] as number] === 2
  }
}

/** What passesDetour reads of a retainer path's step (a RetainerStep). */
interface PathStep {
  readonly label: string
  readonly nodeType: string
  readonly edge: string | null
  readonly edgeType: string | null
}

/** Whether a path passes a carrier or a bound function's bindings before its last step. */
export function passesDetour (steps: readonly PathStep[]): boolean {
  return steps.some((step, i) => i < steps.length - 1 && ((step.nodeType === 'object' && CARRIER_CLASSES.has(step.label)) ||
    (step.edgeType === 'internal' && step.edge !== null && BOUND_EDGES.has(step.edge.replace(/^\{|\}$/g, '')))))
}
