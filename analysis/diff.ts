import { ClassTable, classifyNodes } from './class-names.js'
import { computeDominators } from './dominators.js'
import { compareObjects, indexObjects } from './object-changes.js'
import type { ClassChanges, ObjectIndex } from './object-changes.js'
import { parseHeapSnapshot } from './read-snapshot.js'
import type { ReadProgress } from './read-snapshot.js'
import { findRetainerPaths } from './retainer-paths.js'
import type { RetainerPath } from './retainer-paths.js'
import type { HeapSnapshot } from './snapshot.js'
import { integerProblem } from '../plugin/integer-check.js'

/** One class (constructor) in the comparison, as a row of DevTools' Comparison view. */
export interface HeapDiffRow extends HeapDiffTotals {
  readonly className: string
  /**
   * What the new objects of the class retain in the later snapshot (DevTools' Retained Size,
   * an object counted once even when another of its class holds it); only with `retainedSizes: true`.
   */
  readonly addedRetainedSize?: number
}

export interface SnapshotSummary {
  readonly file: string
  readonly nodeCount: number
  readonly edgeCount: number
  /** Sum of the self sizes of all nodes, in bytes. */
  readonly totalSize: number
}

export interface HeapDiffTotals {
  /** Objects whose id is only in the later snapshot. */
  readonly addedCount: number
  /** Objects whose id is only in the earlier snapshot. */
  readonly removedCount: number
  readonly countDelta: number
  /** Self size of the new objects, in bytes. */
  readonly addedSize: number
  /** Self size of the deleted objects, in bytes. */
  readonly removedSize: number
  readonly sizeDelta: number
}

/** The comparison of two heap snapshots; plain data, JSON-serialisable. */
export interface HeapDiff {
  readonly before: SnapshotSummary
  readonly after: SnapshotSummary
  /** Over all classes, including those cut by `top`. */
  readonly totals: HeapDiffTotals
  /** How many classes changed, including those cut by `top`. */
  readonly classCount: number
  readonly sortBy: HeapDiffSortKey
  readonly rows: readonly HeapDiffRow[]
  readonly retainerPaths: readonly RetainerPath[]
}

export type HeapDiffSortKey = 'sizeDelta' | 'countDelta' | 'addedSize' | 'addedCount'

export interface DiffProgress extends ReadProgress {
  readonly snapshot: 'before' | 'after'
  readonly file: string
}

export interface DiffHeapSnapshotsOptions {
  /**
   * Keep only the first rows (after sorting).
   * @defaultValue Infinity (all classes that changed)
   */
  readonly top?: number
  /**
   * Retainer paths for this many of the top growing classes (0: none, and the edges of the
   * later snapshot are not even read).
   * @defaultValue 3
   */
  readonly retainerPaths?: number
  /**
   * Add what the new objects of each class retain (`addedRetainedSize`), from the dominator
   * tree of the later snapshot. Costs about a fifth more time and a third more memory (two
   * 365 MB snapshots: 12.6 s and 1.0 GB instead of 10.7 s and 0.8 GB), hence off by default.
   * @defaultValue false
   */
  readonly retainedSizes?: boolean
  /**
   * Descending order of rows, ties broken by class name.
   * @defaultValue 'sizeDelta'
   */
  readonly sortBy?: HeapDiffSortKey
  /** Called as each file is read. */
  readonly onProgress?: (progress: DiffProgress) => void
}

const SORT_KEYS: readonly HeapDiffSortKey[] = ['sizeDelta', 'countDelta', 'addedSize', 'addedCount']

/**
 * Compares two heap snapshots of the same process as the Comparison view of Chrome DevTools
 * does: objects are grouped by class and matched across snapshots by their V8 object id.
 * The earlier snapshot is read without its edges and reduced before the later one is read,
 * so only one full snapshot is in memory at a time.
 */
export async function diffHeapSnapshots (beforePath: string, afterPath: string, options: DiffHeapSnapshotsOptions = {}): Promise<HeapDiff> {
  const top = resolveCount(options.top, Infinity, 'top', 1)
  const retainerPaths = resolveCount(options.retainerPaths, 3, 'retainerPaths', 0)
  const sortBy = resolveSortKey(options.sortBy)
  const { onProgress } = options
  const progressOf = (snapshot: DiffProgress['snapshot'], file: string) => onProgress === undefined
    ? undefined
    : (progress: ReadProgress) => onProgress({ ...progress, snapshot, file })

  const table = new ClassTable()
  const before = await readBefore(beforePath, table, progressOf('before', beforePath))
  const withRetained = options.retainedSizes ?? false
  const afterSnapshot = await parseHeapSnapshot(afterPath, { edges: retainerPaths > 0 || withRetained, onProgress: progressOf('after', afterPath) })
  const classOf = classifyNodes(afterSnapshot, table)
  const isNew = new Uint8Array(afterSnapshot.nodeCount)
  const changes = compareObjects(before.objects, indexObjects(afterSnapshot, classOf), table.names.length, isNew)
  const retained = withRetained ? retainedByNewObjects(afterSnapshot, classOf, isNew, table.names.length) : undefined
  const rows = sortRows(toRows(changes, table.names, retained), sortBy)
  const growing = rows.filter((row) => row.addedCount > 0 && row[sortBy] > 0).slice(0, retainerPaths)
  return {
    before: before.summary,
    after: summarize(afterPath, afterSnapshot),
    totals: totalOf(rows),
    classCount: rows.length,
    sortBy,
    rows: rows.slice(0, top),
    retainerPaths: growing.length === 0
      ? []
      : findRetainerPaths(afterSnapshot, { classes: growing.map((row) => table.indexOf(row.className)), classNames: table.names, classOf, isNew })
  }
}

async function readBefore (path: string, table: ClassTable, onProgress: ((p: ReadProgress) => void) | undefined): Promise<{ objects: ObjectIndex, summary: SnapshotSummary }> {
  const snapshot = await parseHeapSnapshot(path, { edges: false, onProgress })
  return { objects: indexObjects(snapshot, classifyNodes(snapshot, table)), summary: summarize(path, snapshot) }
}

function summarize (file: string, snapshot: HeapSnapshot): SnapshotSummary {
  let totalSize = 0
  for (let i = 0; i < snapshot.nodeCount; i++) totalSize += snapshot.nodeSelfSize[i] as number
  return { file, nodeCount: snapshot.nodeCount, edgeCount: snapshot.edgeCount, totalSize }
}

/**
 * Per class: the retained sizes of its new objects, each counted once: an object dominated by
 * a new object of its own class is already in that one's retained size.
 */
function retainedByNewObjects (snapshot: HeapSnapshot, classOf: Uint32Array, isNew: Uint8Array, classCount: number): Float64Array {
  const { idom, retainedSize, order } = computeDominators(snapshot)
  const root = snapshot.rootOrdinal
  // Per node, the nearest new object above it in the dominator tree: walking those is short.
  const none = 0xffffffff
  const newAbove = new Uint32Array(isNew.length).fill(none)
  for (let k = 0; k < order.length; k++) {
    const node = order[k] as number
    if (node === root) continue
    const d = idom[node] as number
    newAbove[node] = isNew[d] === 1 ? d : newAbove[d] as number
  }
  const sums = new Float64Array(classCount)
  for (let node = 0; node < isNew.length; node++) {
    if (isNew[node] !== 1) continue
    const c = classOf[node] as number
    let counted = false
    for (let at = newAbove[node] as number; at !== none && !counted; at = newAbove[at] as number) counted = classOf[at] === c
    if (!counted) sums[c] = (sums[c] as number) + (retainedSize[node] as number)
  }
  return sums
}

function toRows (changes: ClassChanges, names: readonly string[], retained: Float64Array | undefined): HeapDiffRow[] {
  const rows: HeapDiffRow[] = []
  names.forEach((className, c) => {
    const addedCount = changes.addedCount[c] as number
    const removedCount = changes.removedCount[c] as number
    if (addedCount === 0 && removedCount === 0) return
    const addedSize = changes.addedSize[c] as number
    const removedSize = changes.removedSize[c] as number
    const row = { className, addedCount, removedCount, countDelta: addedCount - removedCount, addedSize, removedSize, sizeDelta: addedSize - removedSize }
    rows.push(retained === undefined ? row : { ...row, addedRetainedSize: retained[c] as number })
  })
  return rows
}

function sortRows (rows: HeapDiffRow[], key: HeapDiffSortKey): HeapDiffRow[] {
  return rows.sort((a, b) => b[key] - a[key] || (a.className < b.className ? -1 : a.className > b.className ? 1 : 0))
}

function totalOf (rows: readonly HeapDiffRow[]): HeapDiffTotals {
  let addedCount = 0
  let removedCount = 0
  let addedSize = 0
  let removedSize = 0
  for (const row of rows) {
    addedCount += row.addedCount
    removedCount += row.removedCount
    addedSize += row.addedSize
    removedSize += row.removedSize
  }
  return { addedCount, removedCount, countDelta: addedCount - removedCount, addedSize, removedSize, sizeDelta: addedSize - removedSize }
}

function resolveCount (value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback
  if (value === Infinity) return value
  const problem = integerProblem(value, { min, name, expected: `an integer >= ${min} or Infinity` })
  if (problem !== null) throw new RangeError(problem)
  return value
}

function resolveSortKey (value: HeapDiffSortKey | undefined): HeapDiffSortKey {
  if (value === undefined) return 'sizeDelta'
  if (!SORT_KEYS.includes(value)) throw new RangeError(`sortBy must be one of ${SORT_KEYS.join(', ')}, got ${String(value)}`)
  return value
}
