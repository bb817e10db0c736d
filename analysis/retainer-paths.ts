import { edgeStarts } from './edge-starts.js'
import { edgeLabel, nodeLabel } from './retainer-labels.js'
import { buildRetainerTree, UNREACHED } from './retainer-tree.js'
import type { RetainerTree } from './retainer-tree.js'
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

const ROOT_LABEL = '(GC roots)'

/**
 * For each class, the shortest path from the root to one of its new objects (see
 * buildRetainerTree). Classes without a reachable new object get no path.
 */
export function findRetainerPaths (snapshot: HeapSnapshot, targets: RetainerTargets): RetainerPath[] {
  const tree = buildRetainerTree(snapshot, edgeStarts(snapshot.nodeEdgeCount))
  const slotOfClass = new Map(targets.classes.map((c, slot) => [c, slot]))
  const found = new Uint32Array(targets.classes.length).fill(UNREACHED)
  for (let k = 0, missing = found.length; k < tree.reached && missing > 0; k++) {
    const node = tree.order[k] as number
    const slot = targets.isNew[node] === 1 ? slotOfClass.get(targets.classOf[node] as number) : undefined
    if (slot !== undefined && found[slot] === UNREACHED) {
      found[slot] = node
      missing--
    }
  }
  const paths: RetainerPath[] = []
  targets.classes.forEach((classIndex, slot) => {
    const ordinal = found[slot] as number
    if (ordinal === UNREACHED) return
    paths.push(retainerPathTo(snapshot, tree, ordinal, targets.classNames[classIndex] as string))
  })
  return paths
}

/** The path the tree holds from the root to `target`, the last step labelled `className`. */
export function retainerPathTo (snapshot: HeapSnapshot, found: RetainerTree, target: number, className: string): RetainerPath {
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
