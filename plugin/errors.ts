import createError from '@fastify/error'

export const MissingCredentialsError = createError(
  'FST_MEMDIAG_MISSING_CREDENTIALS',
  'Authentication required: send "Authorization: Bearer <token>"',
  401
)

export const InvalidCredentialsError = createError(
  'FST_MEMDIAG_INVALID_CREDENTIALS',
  'Invalid credentials',
  401
)

export const RateLimitedError = createError<'FST_MEMDIAG_RATE_LIMITED', 429, [string]>(
  'FST_MEMDIAG_RATE_LIMITED',
  'Rate limit exceeded, retry in %s',
  429
)

export const InvalidOptionError = createError<'FST_MEMDIAG_INVALID_OPTION', 500, [string]>(
  'FST_MEMDIAG_INVALID_OPTION',
  'fastify-memory-diagnostics: %s',
  500
)

export const InvalidRequestError = createError<'FST_MEMDIAG_INVALID_REQUEST', 400, [string]>(
  'FST_MEMDIAG_INVALID_REQUEST',
  '%s',
  400
)

export const ForbiddenError = createError(
  'FST_MEMDIAG_FORBIDDEN',
  'Forbidden',
  403
)

export const InternalError = createError(
  'FST_MEMDIAG_INTERNAL_ERROR',
  'Internal error in fastify-memory-diagnostics; see the server log',
  500
)

export const SnapshotInProgressError = createError(
  'FST_MEMDIAG_SNAPSHOT_IN_PROGRESS',
  'A heap snapshot is already being taken or downloaded; retry when it is done',
  409
)

/**
 * The lock is held a little after each snapshot (see lifecycle.ts) while nothing is being taken:
 * says so, with what is left, under `figures.coolDownLeftMs` too.
 */
export const SnapshotCoolingDownError = createError<'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN', 409, [number]>(
  'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN',
  'No heap snapshot is being taken: cooling down after the last one, the next can be taken in %d ms',
  409
)

/** Carries the headroom figures under `figures`, merged into the 503 body by the error handler. */
export const InsufficientHeadroomError = createError<'FST_MEMDIAG_INSUFFICIENT_HEADROOM', 503, [string]>(
  'FST_MEMDIAG_INSUFFICIENT_HEADROOM',
  'Not enough memory headroom for a heap snapshot: %s',
  503
)

export const SnapshotFailedError = createError<'FST_MEMDIAG_SNAPSHOT_FAILED', 500, [string]>(
  'FST_MEMDIAG_SNAPSHOT_FAILED',
  'Heap snapshot failed: %s',
  500
)

export const SnapshotNotFoundError = createError(
  'FST_MEMDIAG_SNAPSHOT_NOT_FOUND',
  'No heap snapshot with this id (unknown, deleted or expired)',
  404
)

export const UnsafeSnapshotDirError = createError<'FST_MEMDIAG_UNSAFE_SNAPSHOT_DIR', 500, [string]>(
  'FST_MEMDIAG_UNSAFE_SNAPSHOT_DIR',
  'fastify-memory-diagnostics: %s',
  500
)

export const RouteNotFoundError = createError<'FST_MEMDIAG_ROUTE_NOT_FOUND', 404, [string, string]>(
  'FST_MEMDIAG_ROUTE_NOT_FOUND',
  'Route %s:%s not found',
  404
)

export const MethodNotAllowedError = createError<'FST_MEMDIAG_METHOD_NOT_ALLOWED', 405, [string, string]>(
  'FST_MEMDIAG_METHOD_NOT_ALLOWED',
  'Method %s not allowed on %s',
  405
)

/** A file in the snapshot directory under a snapshot's name that the plugin did not write (a FIFO, a link...). */
export const UnsafeSnapshotFileError = createError<'FST_MEMDIAG_UNSAFE_SNAPSHOT_FILE', 500, [string]>(
  'FST_MEMDIAG_UNSAFE_SNAPSHOT_FILE',
  'Refusing to serve a file this plugin did not write: %s',
  500
)

/** `POST /heap-profile` while this plugin's sampling runs with other settings. */
export const HeapProfileSettingsConflictError = createError<'FST_MEMDIAG_HEAP_PROFILE_SETTINGS_CONFLICT', 409, [string]>(
  'FST_MEMDIAG_HEAP_PROFILE_SETTINGS_CONFLICT',
  'The sampling heap profiler already runs with other settings (%s): DELETE /heap-profile first to restart it with these',
  409
)

/** V8's one sampling heap profiler is held by someone else: another plugin instance, DevTools, another profiler. */
export const HeapProfilerBusyError = createError<'FST_MEMDIAG_HEAP_PROFILER_BUSY', 409, [string]>(
  'FST_MEMDIAG_HEAP_PROFILER_BUSY',
  'V8\'s sampling heap profiler is not this plugin\'s to use: %s',
  409
)

export const HeapProfileNotRunningError = createError(
  'FST_MEMDIAG_HEAP_PROFILE_NOT_RUNNING',
  'The sampling heap profiler is not running: start it with POST /heap-profile (or the `heapProfile.continuous` option)',
  409
)

/** A Node built without the inspector (`process.features.inspector` false) has no heap profiler to drive. */
export const HeapProfilerUnavailableError = createError(
  'FST_MEMDIAG_HEAP_PROFILER_UNAVAILABLE',
  'This Node.js has no inspector (built without it), so no sampling heap profiler',
  501
)

/** An upload the caller asked for failed after its retries: the store's code and message, and `upload` with the attempts, under `figures`. */
export const UploadFailedError = createError<'FST_MEMDIAG_UPLOAD_FAILED', 502, [string]>(
  'FST_MEMDIAG_UPLOAD_FAILED',
  'Upload to the object store failed: %s',
  502
)

type ByCode<T> = { [K in keyof T]: { readonly prototype: { code: K } } }

/** Keeps each error under its own code: a key that is not its error's code does not compile. */
function byCode<T extends ByCode<T>> (errors: T): Readonly<T> {
  return Object.freeze(errors)
}

/**
 * The plugin's errors by code, as Fastify's `errorCodes`: `error instanceof
 * errorCodes.FST_MEMDIAG_SNAPSHOT_COOLING_DOWN`, or compare `error.code` / the body's `code`.
 */
export const errorCodes = byCode({
  FST_MEMDIAG_MISSING_CREDENTIALS: MissingCredentialsError,
  FST_MEMDIAG_INVALID_CREDENTIALS: InvalidCredentialsError,
  FST_MEMDIAG_RATE_LIMITED: RateLimitedError,
  FST_MEMDIAG_INVALID_OPTION: InvalidOptionError,
  FST_MEMDIAG_INVALID_REQUEST: InvalidRequestError,
  FST_MEMDIAG_FORBIDDEN: ForbiddenError,
  FST_MEMDIAG_INTERNAL_ERROR: InternalError,
  FST_MEMDIAG_SNAPSHOT_IN_PROGRESS: SnapshotInProgressError,
  FST_MEMDIAG_SNAPSHOT_COOLING_DOWN: SnapshotCoolingDownError,
  FST_MEMDIAG_INSUFFICIENT_HEADROOM: InsufficientHeadroomError,
  FST_MEMDIAG_SNAPSHOT_FAILED: SnapshotFailedError,
  FST_MEMDIAG_SNAPSHOT_NOT_FOUND: SnapshotNotFoundError,
  FST_MEMDIAG_UNSAFE_SNAPSHOT_DIR: UnsafeSnapshotDirError,
  FST_MEMDIAG_ROUTE_NOT_FOUND: RouteNotFoundError,
  FST_MEMDIAG_METHOD_NOT_ALLOWED: MethodNotAllowedError,
  FST_MEMDIAG_UNSAFE_SNAPSHOT_FILE: UnsafeSnapshotFileError,
  FST_MEMDIAG_HEAP_PROFILE_SETTINGS_CONFLICT: HeapProfileSettingsConflictError,
  FST_MEMDIAG_HEAP_PROFILER_BUSY: HeapProfilerBusyError,
  FST_MEMDIAG_HEAP_PROFILE_NOT_RUNNING: HeapProfileNotRunningError,
  FST_MEMDIAG_HEAP_PROFILER_UNAVAILABLE: HeapProfilerUnavailableError,
  FST_MEMDIAG_UPLOAD_FAILED: UploadFailedError
})
