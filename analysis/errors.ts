import createError from '@fastify/error'

/**
 * The file is not a (complete) V8 heap snapshot: empty, truncated, another kind of JSON,
 * a broken gzip stream. The message says which, e.g. "truncated: expected 39033 nodes, got 1200".
 */
export const HeapSnapshotFormatError = createError<'FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT', 422, [string, { cause: unknown }?]>(
  'FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT',
  '%s',
  422
)

/** The file is not a V8 sampling heap profile (`.heapprofile`), or the profiles cannot be compared. */
export const HeapProfileFormatError = createError<'FST_MEMDIAG_HEAP_PROFILE_FORMAT', 422, [string, { cause: unknown }?]>(
  'FST_MEMDIAG_HEAP_PROFILE_FORMAT',
  '%s',
  422
)

/** The analysis' errors by code, as Fastify's `errorCodes`: `error instanceof errorCodes.FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT`. */
export const errorCodes = Object.freeze({
  FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT: HeapSnapshotFormatError,
  FST_MEMDIAG_HEAP_PROFILE_FORMAT: HeapProfileFormatError
})
