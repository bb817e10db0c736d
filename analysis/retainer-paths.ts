import { edgeStarts } from './edge-starts.js'
import { RetainerEdgeFilter } from './retainer-edge-filter.js'
import { edgeLabel, nodeLabel } from './retainer-labels.js'
import type { HeapSnapshot } from './snapshot.js'

export interface RetainerStep {
  /** `(GC roots)`, `global`, `Array`, `handler()`, `system / Context`... */
  readonly label: string
  readonly nodeType: string
  readonly nodeId: number
  /** The edge to the next step (`.leaks`, `[3]`, `->cache`); null on the last step. */
  readonly edge: string | null
  readonly edgeType: string | null
}

export interface RetainerPath {
  readonly className: string
  /** Id of the new object the path leads to (search for `@id` in DevTools). */
  readonly nodeId: number
  readonly steps: readonly RetainerStep[]
  /** `(GC roots) → global.leaks → Array[4999] → LeakyThing` */
  readonly text: string
}

/** What the search is for: new objects of these classes. */
export interface RetainerTargets {
  readonly classes: readonly number[]
  readonly classNames: readonly string[]
  /** Class of each node (NO_CLASS for none). */
  readonly classOf: Uint32Array
  /** 1 for each node that is new since the earlier snapshot. */
  readonly isNew: Uint8Array
}

const UNVISITED = 0xffffffff
const ROOT_LABEL = '(GC roots)'

/**
 * For each class, the shortest path from the root to one of its new objects: a breadth-first
 * walk over the edges (see RetainerEdgeFilter for those it does not follow). As DevTools does
 * for distances, objects reachable from the global objects (the root's user roots) are
 * reached from there first; only what they do not reach is then walked from the root's
 * system entries ((GC roots), C++ roots...). Classes without a reachable new object get no path.
 */
export function findRetainerPaths (snapshot: HeapSnapshot, targets: RetainerTargets): RetainerPath[] {
  const found = walk(snapshot, targets)
  const paths: RetainerPath[] = []
  targets.classes.forEach((classIndex, slot) => {
    const ordinal = found.targets[slot] as number
    if (ordinal === UNVISITED) return
    paths.push(pathTo(snapshot, found, ordinal, targets.classNames[classIndex] as string))
  })
  return paths
}

interface Walk {
  readonly parent: Uint32Array
  readonly parentEdge: Uint32Array
  /** Per target class: the ordinal of the first new object reached, or UNVISITED. */
  readonly targets: Uint32Array
}

function walk (snapshot: HeapSnapshot, targets: RetainerTargets): Walk {
  const { nodeCount, edgeToNode, rootOrdinal } = snapshot
  const firstEdge = edgeStarts(snapshot.nodeEdgeCount)
  const filter = new RetainerEdgeFilter(snapshot)
  const parent = new Uint32Array(nodeCount).fill(UNVISITED)
  const parentEdge = new Uint32Array(nodeCount)
  const queue = new Uint32Array(nodeCount)
  const slotOfClass = new Map(targets.classes.map((c, slot) => [c, slot]))
  const found = new Uint32Array(targets.classes.length).fill(UNVISITED)
  let missing = found.length
  let head = 0
  let tail = 0
  const visit = (from: number, edge: number): void => {
    const to = edgeToNode[edge] as number
    if (parent[to] !== UNVISITED || filter.skips(from, edge)) return
    parent[to] = from
    parentEdge[to] = edge
    queue[tail++] = to
  }
  const expand = (from: number, userRootsOnly: boolean): void => {
    for (let e = firstEdge[from] as number, end = firstEdge[from + 1] as number; e < end; e++) {
      if (!userRootsOnly || isUserRoot(snapshot, edgeToNode[e] as number)) visit(from, e)
    }
  }
  parent[rootOrdinal] = rootOrdinal
  expand(rootOrdinal, true)
  for (let phase = 0; phase < 2 && missing > 0; phase++) {
    if (phase === 1) expand(rootOrdinal, false)
    while (head < tail && missing > 0) {
      const node = queue[head++] as number
      const slot = targets.isNew[node] === 1 ? slotOfClass.get(targets.classOf[node] as number) : undefined
      if (slot !== undefined && found[slot] === UNVISITED) {
        found[slot] = node
        missing--
      }
      expand(node, false)
    }
  }
  return { parent, parentEdge, targets: found }
}

function isUserRoot (snapshot: HeapSnapshot, ordinal: number): boolean {
  return snapshot.nodeTypeNames[snapshot.nodeType[ordinal] as number] !== 'synthetic'
}

function pathTo (snapshot: HeapSnapshot, found: Walk, target: number, className: string): RetainerPath {
  const ordinals = [target]
  for (let node = target; node !== snapshot.rootOrdinal;) {
    node = found.parent[node] as number
    ordinals.unshift(node)
  }
  // The root is shown as "(GC roots)"; when the path goes on through V8's own "(GC roots)" node, once is enough.
  if (ordinals.length > 1 && nodeLabel(snapshot, ordinals[1] as number) === ROOT_LABEL) ordinals.shift()
  const steps = ordinals.map((ordinal, i): RetainerStep => {
    const next = ordinals[i + 1]
    const edge = next === undefined ? undefined : found.parentEdge[next] as number
    return {
      label: next === undefined ? className : ordinal === snapshot.rootOrdinal ? ROOT_LABEL : nodeLabel(snapshot, ordinal),
      nodeType: snapshot.nodeTypeNames[snapshot.nodeType[ordinal] as number] as string,
      nodeId: snapshot.nodeId[ordinal] as number,
      edge: edge === undefined ? null : edgeLabel(snapshot, edge),
      edgeType: edge === undefined ? null : snapshot.edgeTypeNames[snapshot.edgeType[edge] as number] as string
    }
  })
  return { className, nodeId: snapshot.nodeId[target] as number, steps, text: pathText(steps) }
}

/** Steps joined by arrows, each with the edge it leaves by; edges out of synthetic nodes are bare indexes, left out. */
function pathText (steps: readonly RetainerStep[]): string {
  return steps.map((step) => step.edge === null || step.nodeType === 'synthetic' ? step.label : step.label + step.edge).join(' → ')
}
