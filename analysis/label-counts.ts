import { nodeLabel } from './retainer-labels.js'
import type { HeapSnapshot } from './snapshot.js'

/** The node types whose names `labelCounts` needs kept when a snapshot is parsed (see `keepNamesOfTypes`). */
export const COUNTED_NAME_TYPES: readonly string[] = ['object', 'closure', 'native']

/**
 * How many nodes of each label (`Session`, `onTick()`, `Node / ModuleWrap`, `(string)`) a
 * snapshot holds: the per-class counts of DevTools' Summary view, from which a class's growth
 * between snapshots is told without keeping the earlier snapshots' graphs.
 */
export function labelCounts (snapshot: HeapSnapshot): Map<string, number> {
  const types = snapshot.nodeTypeNames.length
  // Counted per (name, type) first: one Map lookup per distinct label, not per node.
  const byNameAndType = new Map<number, number>()
  const first = new Map<number, number>()
  for (let i = 0; i < snapshot.nodeCount; i++) {
    const key = (snapshot.nodeName[i] as number) * types + (snapshot.nodeType[i] as number)
    const count = byNameAndType.get(key)
    if (count === undefined) {
      byNameAndType.set(key, 1)
      first.set(key, i)
    } else {
      byNameAndType.set(key, count + 1)
    }
  }
  const counts = new Map<string, number>()
  for (const [key, count] of byNameAndType) {
    const label = nodeLabel(snapshot, first.get(key) as number)
    counts.set(label, (counts.get(label) ?? 0) + count)
  }
  return counts
}
