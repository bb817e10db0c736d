export { diffHeapSnapshots } from './diff.js'
export type {
  DiffHeapSnapshotsOptions, DiffProgress, HeapDiff, HeapDiffRow, HeapDiffSortKey, HeapDiffTotals, SnapshotSummary
} from './diff.js'
export { HeapSnapshotFormatError } from './errors.js'
export { formatHeapDiff } from './format.js'
export type { FormatHeapDiffOptions } from './format.js'
export { parseHeapSnapshot } from './read-snapshot.js'
export type { ParseHeapSnapshotOptions, ReadProgress } from './read-snapshot.js'
export type { RetainerPath, RetainerStep } from './retainer-paths.js'
export type { HeapSnapshot } from './snapshot.js'
export { HeapSnapshotParser } from './snapshot-parser.js'
export type { HeapSnapshotParserOptions } from './snapshot-parser.js'
export { computeDominators } from './dominators.js'
export type { Dominators } from './dominators.js'
export { findLeaks } from './find-leaks.js'
export type {
  CollectionKind, FindLeaksOptions, FindLeaksProgress, LeakCandidate, LeakCollection, LeakDrag, LeakReport, LeakSnapshotSummary, LeakStep
} from './find-leaks.js'
export { formatLeakReport } from './format-leaks.js'
export { readRequestCounts, REQUEST_COUNT_PREFIX } from './request-counts.js'
export type { RequestCounts } from './request-counts.js'
export type { RouteShare } from './route-attribution.js'
