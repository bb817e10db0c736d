import { edgeStarts } from './edge-starts.js'
import { PathDetours, passesDetour } from './path-detours.js'
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
  /** The shortest path, when this one is a longer one around a timer or a bound function it passes (see PathDetours). */
  readonly shortest?: RetainerPath
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
 * buildRetainerTree), or when that passes a timer or a bound function on the way, the shortest
 * path to one that does not, with the other beside it. Classes without a reachable new object get
 * no path.
 */
export function findRetainerPaths (snapshot: HeapSnapshot, targets: RetainerTargets): RetainerPath[] {
  const firstEdge = edgeStarts(snapshot.nodeEdgeCount)
  const tree = buildRetainerTree(snapshot, firstEdge)
  const found = firstNewOfEachClass(tree, targets)
  let around: { tree: RetainerTree, found: Uint32Array } | undefined
  const paths: RetainerPath[] = []
  targets.classes.forEach((classIndex, slot) => {
    const ordinal = found[slot] as number
    if (ordinal === UNREACHED) return
    const className = targets.classNames[classIndex] as string
    const shortest = retainerPathTo(snapshot, tree, ordinal, className)
    if (!passesDetour(shortest.steps)) {
      paths.push(shortest)
      return
    }
    if (around === undefined) {
      const detours = new PathDetours(snapshot)
      const aroundTree = buildRetainerTree(snapshot, firstEdge, (edge) => detours.avoids(edge))
      around = { tree: aroundTree, found: firstNewOfEachClass(aroundTree, targets) }
    }
    const other = around.found[slot] as number
    paths.push(other === UNREACHED ? shortest : { ...retainerPathTo(snapshot, around.tree, other, className), shortest })
  })
  return paths
}

/** Per target class, its new object the tree reaches first (nearest the root), UNREACHED for none. */
function firstNewOfEachClass (tree: RetainerTree, targets: RetainerTargets): Uint32Array {
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
  return found
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
