import { labelOf } from './retainer-labels.js'
import type { HeapSnapshot } from './snapshot.js'

/** The node types whose names `labelCounts` needs kept when a snapshot is parsed (see `keepNamesOfTypes`). */
export const COUNTED_NAME_TYPES: readonly string[] = ['object', 'closure', 'native']

/**
 * How many nodes of each label (`Session`, `onTick()`, `Node / ModuleWrap`, `(string)`) a
 * snapshot holds: the per-class counts of DevTools' Summary view, from which a class's growth
 * between snapshots is told without keeping the earlier snapshots' graphs. Nodes of the
 * COUNTED_NAME_TYPES are counted per name (an array of a count per string, per type: no lookup
 * per node), the others per type (`(string)`, `(array)`).
 */
export function labelCounts (snapshot: HeapSnapshot): Map<string, number> {
  const { nodeTypeNames, strings, nodeType, nodeName } = snapshot
  const byName = nodeTypeNames.map((type) => COUNTED_NAME_TYPES.includes(type) ? new Uint32Array(strings.length) : undefined)
  const byType = new Float64Array(nodeTypeNames.length)
  for (let i = 0; i < snapshot.nodeCount; i++) {
    const type = nodeType[i] as number
    const names = byName[type]
    if (names === undefined) byType[type] = (byType[type] as number) + 1
    else names[nodeName[i] as number] = (names[nodeName[i] as number] as number) + 1
  }
  const counts = new Map<string, number>()
  const add = (label: string, n: number): void => { counts.set(label, (counts.get(label) ?? 0) + n) }
  byName.forEach((names, type) => {
    if (names === undefined) return
    names.forEach((n, name) => { if (n > 0) add(labelOf(nodeTypeNames[type] as string, strings[name] as string), n) })
  })
  byType.forEach((n, type) => { if (n > 0) add(`(${nodeTypeNames[type] as string})`, n) })
  return counts
}
