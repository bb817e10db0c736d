// What a user of the offline analysis calls: the Comparison diff, the leak finder, the reader
// and the request-count marks, the heap profile comparison, the formatters, their options and reports, the error codes. The
// parser, the dominator tree and the other internals are imported from their own files.
export { diffHeapSnapshots } from './diff.js'
export type {
  DiffHeapSnapshotsOptions, DiffProgress, HeapDiff, HeapDiffRow, HeapDiffSortKey, HeapDiffTotals, SnapshotSummary
} from './diff.js'
export { errorCodes } from './errors.js'
export { formatHeapDiff } from './format.js'
export type { FormatHeapDiffOptions } from './format.js'
export { parseHeapSnapshot } from './read-snapshot.js'
export type { ParseHeapSnapshotOptions, ReadProgress } from './read-snapshot.js'
export type { RetainerPath, RetainerStep } from './retainer-paths.js'
export type { HeapSnapshot } from './snapshot.js'
export { findLeaks } from './find-leaks.js'
export type { LeakAllocation } from './allocated-by.js'
export type {
  CollectionKind, FindLeaksOptions, FindLeaksProgress, LeakCandidate, LeakCollection, LeakDrag, LeakReport, LeakSnapshotSummary, LeakStep
} from './find-leaks.js'
export { formatLeakReport } from './format-leaks.js'
export { readRequestCounts } from './request-counts.js'
export type { RequestCounts } from './request-counts.js'
export type { RouteAttribution, RouteShare, RouteShareBasis } from './route-attribution.js'
export { findGrowingSites } from './heap-profile/find-growing-sites.js'
export type {
  AppCallSite, FindGrowingSitesOptions, GrowingSite, GrowingSitesReport, HeapProfileSummary, SiteFrame, SiteRoute
} from './heap-profile/find-growing-sites.js'
export { formatGrowingSites } from './heap-profile/format-growing-sites.js'
