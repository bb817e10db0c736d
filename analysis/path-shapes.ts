import { pathShape } from './leak-path.js'
import { edgeLabel, nodeLabel } from './retainer-labels.js'
import type { RetainerTree } from './retainer-tree.js'
import { UNREACHED } from './retainer-tree.js'
import type { HeapSnapshot } from './snapshot.js'

const NOT_YET = 0

/**
 * The shape (see `pathShape`) of the retainer path to each node asked about, as a small
 * number: nodes on the same shape of path share it. Shapes are built once per distinct prefix
 * and remembered per node in a typed array, so asking for many objects costs little.
 */
export class PathShapes {
  readonly #snapshot: HeapSnapshot
  readonly #tree: RetainerTree
  readonly #shapeOf: Uint32Array
  /** Per shape id (from 1): its text; id 1 is the empty path (the root). */
  readonly #texts: string[] = ['', '']
  readonly #lastPart: string[] = ['', '']
  readonly #ids = new Map<string, number>()
  /** Per node: 1 + the first node of the same-class chain it ends, 0 until asked. */
  readonly #chainHeads: Uint32Array

  constructor (snapshot: HeapSnapshot, tree: RetainerTree) {
    this.#snapshot = snapshot
    this.#tree = tree
    this.#shapeOf = new Uint32Array(snapshot.nodeCount)
    this.#shapeOf[snapshot.rootOrdinal] = 1
    this.#chainHeads = new Uint32Array(snapshot.nodeCount)
  }

  #chainHead (node: number): number {
    const { parent } = this.#tree
    const s = this.#snapshot
    const sameClass = (a: number, b: number): boolean => s.nodeType[a] === s.nodeType[b] && s.nodeName[a] === s.nodeName[b]
    const pending: number[] = []
    let at = node
    while (this.#chainHeads[at] === 0) {
      const up = parent[at] as number
      if (up === UNREACHED || up === at || !sameClass(up, at)) {
        this.#chainHeads[at] = at + 1
        break
      }
      pending.push(at)
      at = up
    }
    const head = (this.#chainHeads[at] as number) - 1
    for (const member of pending) this.#chainHeads[member] = head + 1
    return head
  }

  /** The shape id of the path up to `node` and the edge into it (not the node itself). */
  of (node: number): number {
    const { parent } = this.#tree
    const pending: number[] = []
    let at = node
    while (this.#shapeOf[at] === NOT_YET && parent[at] !== UNREACHED) {
      pending.push(at)
      at = parent[at] as number
    }
    if (this.#shapeOf[at] === NOT_YET) this.#shapeOf[at] = 1
    for (let i = pending.length - 1; i >= 0; i--) {
      const child = pending[i] as number
      this.#shapeOf[child] = this.#extend(this.#shapeOf[parent[child] as number] as number, parent[child] as number, child)
    }
    return this.#shapeOf[node] as number
  }

  /**
   * Like `of`, except for an object in a chain of its own class (a linked list: each reached
   * from the previous one): every member gets the chain's shape, whichever end the shortest
   * path came in by, so that a list is one group and not one per direction.
   */
  ofMember (node: number): number {
    const head = this.#chainHead(node)
    if (head === node) return this.of(node)
    const holder = this.#tree.parent[head] as number
    const s = this.#snapshot
    return this.#intern(this.of(holder), `${nodeLabel(s, holder)} → ${nodeLabel(s, head)}…`)
  }

  text (shape: number): string {
    return this.#texts[shape] as string
  }

  #extend (shape: number, from: number, to: number): number {
    const s = this.#snapshot
    if (s.nodeTypeNames[s.nodeType[from] as number] === 'synthetic') return shape
    const edge = this.#tree.parentEdge[to] as number
    const part = pathShape([{
      label: nodeLabel(s, from),
      nodeType: '',
      nodeId: 0,
      edge: edgeLabel(s, edge),
      edgeType: s.edgeTypeNames[s.edgeType[edge] as number] as string
    }])
    return this.#intern(shape, part)
  }

  #intern (shape: number, part: string): number {
    if (part === this.#lastPart[shape]) return shape
    const key = `${shape}\u0000${part}`
    let id = this.#ids.get(key)
    if (id === undefined) {
      id = this.#texts.length
      const prefix = this.#texts[shape] as string
      this.#texts.push(prefix === '' ? part : `${prefix} → ${part}`)
      this.#lastPart.push(part)
      this.#ids.set(key, id)
    }
    return id
  }
}
