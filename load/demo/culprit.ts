import type { HeapDiff, HeapDiffRow, RetainerPath } from '../../analysis/index.js'

export interface Culprit {
  className: string
  countDelta: number
  sizeDelta: number
  /** New objects of this class per request of the phase. */
  perRequest: number
  path: RetainerPath | null
  /** Other growing classes whose retainer path goes through this one. */
  retains: string[]
}

// Built-ins grow with any workload; a leak is named by the application's or a library's class.
const GENERIC = new Set([
  'Object', 'Array', 'Function', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'Promise', 'Error',
  'Date', 'RegExp', 'Buffer', 'ArrayBuffer', 'Uint8Array', 'FastBuffer', 'DataView', 'Symbol', 'Arguments'
])

function isNamedClass (name: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(name) && !GENERIC.has(name)
}

/** Classes that grew by at least `minPerRequest` objects per request of the phase. */
export function growingClasses (diff: HeapDiff, requests: number, minPerRequest = 0.5): HeapDiffRow[] {
  if (requests <= 0) return []
  return diff.rows.filter((row) => isNamedClass(row.className) && row.countDelta / requests >= minPerRequest)
}

/**
 * The class that owns the leak, among the classes that grew with the requests. The signature of a
 * "created per request, never released" leak: exactly one new object per request, held directly
 * in a collection (`connections[i] → NativeConnection`) rather than only through the runtime's
 * timer list (which keeps every leaked client's monitor alive, and so is on many shortest paths).
 * Ties go to the class that retains most of the other growing classes, then to the largest growth.
 */
export function findCulprit (diff: HeapDiff, requests: number): Culprit | null {
  const candidates = growingClasses(diff, requests)
  if (candidates.length === 0) return null
  const pathOf = new Map(diff.retainerPaths.map((path) => [path.className, path]))
  const retainedThrough = (row: HeapDiffRow) => candidates
    .filter((other) => other !== row && (pathOf.get(other.className)?.steps ?? []).slice(0, -1).some((step) => step.label === row.className))
    .map((other) => other.className)
  const ranked = candidates.map((row) => {
    const path = pathOf.get(row.className) ?? null
    return {
      row,
      path,
      retains: retainedThrough(row),
      onePerRequest: Math.abs(row.countDelta / requests - 1) <= ONE_PER_REQUEST_TOLERANCE ? 1 : 0,
      heldInCollection: path !== null && isHeldInCollection(path) ? 1 : 0
    }
  }).sort((a, b) =>
    b.onePerRequest - a.onePerRequest ||
    b.heldInCollection - a.heldInCollection ||
    b.retains.length - a.retains.length ||
    b.row.sizeDelta - a.row.sizeDelta)
  const best = ranked[0]!
  return {
    className: best.row.className,
    countDelta: best.row.countDelta,
    sizeDelta: best.row.sizeDelta,
    perRequest: best.row.countDelta / requests,
    path: best.path,
    retains: best.retains
  }
}

const ONE_PER_REQUEST_TOLERANCE = 0.15

function isHeldInCollection (path: RetainerPath): boolean {
  const holder = path.steps.at(-2)
  return holder?.edgeType === 'element' && !path.steps.some((step) => step.edge === 'timerListMap')
}
