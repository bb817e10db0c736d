import { NO_CLASS } from './class-names.js'
import { sortOrdinalsById } from './id-order.js'
import type { HeapSnapshot } from './snapshot.js'

/** The objects of one snapshot that take part in the comparison, sorted by id. */
export interface ObjectIndex {
  readonly ids: Uint32Array
  readonly classes: Uint32Array
  readonly sizes: Float64Array
  /** Node ordinal of each entry, to find the node again. */
  readonly ordinals: Uint32Array
}

/** Per class index: what appeared and what went away between two snapshots. */
export interface ClassChanges {
  readonly addedCount: Float64Array
  readonly removedCount: Float64Array
  readonly addedSize: Float64Array
  readonly removedSize: Float64Array
}

/** Indexes the nodes that have a class (see `classifyNodes`) by V8 object id. */
export function indexObjects (snapshot: HeapSnapshot, classes: Uint32Array): ObjectIndex {
  let count = 0
  for (let i = 0; i < classes.length; i++) if (classes[i] !== NO_CLASS) count++
  const ordinals = new Uint32Array(count)
  for (let i = 0, k = 0; i < classes.length; i++) if (classes[i] !== NO_CLASS) ordinals[k++] = i
  const sorted = sortOrdinalsById(ordinals, snapshot.nodeId)
  const ids = new Uint32Array(count)
  const classOf = new Uint32Array(count)
  const sizes = new Float64Array(count)
  for (let k = 0; k < count; k++) {
    const ordinal = sorted[k] as number
    ids[k] = snapshot.nodeId[ordinal] as number
    classOf[k] = classes[ordinal] as number
    sizes[k] = snapshot.nodeSelfSize[ordinal] as number
  }
  return { ids, classes: classOf, sizes, ordinals: sorted }
}

/**
 * Matches objects by id as DevTools does (`calculateDiffForClass`): within a class, an id only
 * in `after` is new, an id only in `before` is deleted. An object whose class changed (a cons
 * string flattened, say) counts as deleted from the old class and new in the other.
 * Sets `isNew[ordinal]` for every new object of `after`.
 */
export function compareObjects (before: ObjectIndex, after: ObjectIndex, classCount: number, isNew: Uint8Array): ClassChanges {
  const changes: ClassChanges = {
    addedCount: new Float64Array(classCount),
    removedCount: new Float64Array(classCount),
    addedSize: new Float64Array(classCount),
    removedSize: new Float64Array(classCount)
  }
  const removed = (k: number): void => {
    const c = before.classes[k] as number
    changes.removedCount[c] = (changes.removedCount[c] as number) + 1
    changes.removedSize[c] = (changes.removedSize[c] as number) + (before.sizes[k] as number)
  }
  const added = (k: number): void => {
    const c = after.classes[k] as number
    changes.addedCount[c] = (changes.addedCount[c] as number) + 1
    changes.addedSize[c] = (changes.addedSize[c] as number) + (after.sizes[k] as number)
    isNew[after.ordinals[k] as number] = 1
  }
  let i = 0
  let j = 0
  while (i < before.ids.length && j < after.ids.length) {
    const idBefore = before.ids[i] as number
    const idAfter = after.ids[j] as number
    if (idBefore < idAfter) {
      removed(i++)
    } else if (idBefore > idAfter) {
      added(j++)
    } else {
      if (before.classes[i] !== after.classes[j]) {
        removed(i)
        added(j)
      }
      i++
      j++
    }
  }
  while (i < before.ids.length) removed(i++)
  while (j < after.ids.length) added(j++)
  return changes
}
