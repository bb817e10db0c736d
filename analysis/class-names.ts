import type { HeapSnapshot } from './snapshot.js'

/** Marks a node left out of the comparison. */
export const NO_CLASS = 0xffffffff

/** Class names shared by both snapshots, so that a class has one index in both. */
export class ClassTable {
  readonly names: string[] = []
  readonly #indexes = new Map<string, number>()

  indexOf (name: string): number {
    let index = this.#indexes.get(name)
    if (index === undefined) {
      index = this.names.length
      this.names.push(name)
      this.#indexes.set(name, index)
    }
    return index
  }
}

/**
 * The class of each node, grouped as the Comparison view of Chrome DevTools groups them
 * (`JSHeapSnapshotNode.className()` in devtools-frontend): objects and native objects by their
 * name (the constructor), `hidden` nodes as `(system)`, `code` as `(compiled code)`, any other
 * type as `(type)`: `(closure)`, `(array)`, `(string)`, `(concatenated string)`, `(number)`...
 * Nodes whose self size is 0 get NO_CLASS: DevTools leaves them out of its aggregates too.
 */
export function classifyNodes (snapshot: HeapSnapshot, table: ClassTable): Uint32Array {
  const { nodeType, nodeName, nodeSelfSize, strings } = snapshot
  const classOfType = snapshot.nodeTypeNames.map((type) => NAMED_TYPES.has(type) ? -1 : table.indexOf(classNameOfType(type)))
  const classOfName = new Int32Array(strings.length).fill(-1)
  const classes = new Uint32Array(snapshot.nodeCount)
  for (let i = 0; i < classes.length; i++) {
    if (nodeSelfSize[i] === 0) {
      classes[i] = NO_CLASS
      continue
    }
    let index = classOfType[nodeType[i] as number] as number
    if (index === -1) {
      const name = nodeName[i] as number
      index = classOfName[name] as number
      if (index === -1) index = classOfName[name] = table.indexOf(strings[name] as string)
    }
    classes[i] = index
  }
  return classes
}

const NAMED_TYPES: ReadonlySet<string> = new Set(['object', 'native'])

function classNameOfType (type: string): string {
  if (type === 'hidden') return '(system)'
  if (type === 'code') return '(compiled code)'
  return `(${type})`
}
