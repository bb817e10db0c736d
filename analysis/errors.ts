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

/** The analysis' errors by code, as Fastify's `errorCodes`: `error instanceof errorCodes.FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT`. */
export const errorCodes = Object.freeze({
  FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT: HeapSnapshotFormatError
})
