import { SnapshotCoolingDownError, SnapshotInProgressError } from './errors.js'
import { ALLOCATORS, ESTIMATE_BASES, HEADROOM_SOURCES, REDACTION_PATHS, SNAPSHOT_JOB_STATES } from './types/reports.js'
import { MEMORY_LIMITS, TREND_VERDICTS } from './types/trend.js'

export const errorResponse = {
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' }
  }
} as const

/** The error answers every route can give: validation, access (auth, rate limit), internal. */
export const commonErrorResponses = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  429: errorResponse,
  500: errorResponse
} as const

// Fastify's Ajv removes unknown properties instead of rejecting them (removeAdditional), so
// unknown query parameters are rejected through `propertyNames` rather than additionalProperties.
export function onlyQueryParameters (properties: Record<string, unknown>) {
  const names = Object.keys(properties)
  return {
    type: 'object',
    properties,
    propertyNames: names.length === 0 ? false : { enum: names }
  }
}

const integer = { type: 'integer' } as const
const number = { type: 'number' } as const
const boolean = { type: 'boolean' } as const
const string = { type: 'string' } as const
const nullableInteger = { type: ['integer', 'null'] } as const
const nullableNumber = { type: ['number', 'null'] } as const
const nullableString = { type: ['string', 'null'] } as const

function objectOf (fields: Record<string, unknown>) {
  return { type: 'object', required: Object.keys(fields), properties: fields }
}

function integers (...names: string[]) {
  return objectOf(Object.fromEntries(names.map((name) => [name, integer])))
}

const headroomFigures = {
  heapUsedBytes: integer,
  estimatedBytes: integer,
  availableBytes: integer,
  source: { type: 'string', enum: [...HEADROOM_SOURCES] },
  basis: { type: 'string', enum: [...ESTIMATE_BASES] },
  estimate: objectOf({
    basis: { type: 'string', enum: [...ESTIMATE_BASES] },
    estimatedBytes: integer,
    boundBytes: integer,
    learnedRatio: nullableNumber,
    marginBytes: integer,
    largeObjectBytes: integer,
    otherHeapBytes: integer,
    redactionBytes: integer
  }),
  reusableBytes: integer
}

/** A snapshot written: the `201` of `POST /heap-snapshot`, and `last` in `GET /memory`. */
const writtenSnapshotFields = {
  id: string,
  filePath: string,
  bytes: integer,
  durationMs: number,
  heapUsedBytes: integer,
  rssBeforeBytes: nullableInteger,
  peakRssBytes: nullableInteger,
  extraRssBytes: nullableInteger,
  costFactor: nullableNumber,
  peakRssIsUpperBound: boolean,
  largeObjectBytes: integer,
  otherHeapBytes: integer,
  createdAt: string
}

const routeCounts = { type: 'object', additionalProperties: integer } as const

/** `upload` in the answers: the object stored, or the error it failed with and the attempts. */
export const uploadReportResponse = {
  type: 'object',
  required: ['bucket', 'key', 'attempts'],
  properties: {
    bucket: string,
    key: string,
    bytes: integer,
    etag: string,
    url: string,
    urlExpiresAt: string,
    attempts: integer,
    durationMs: integer,
    error: objectOf({ code: string, message: string })
  }
} as const

/** The `201` of `POST /heap-snapshot`: the snapshot written, and the request counts marked in it. */
export const writtenSnapshotResponse = {
  ...objectOf(writtenSnapshotFields),
  properties: {
    ...writtenSnapshotFields,
    requests: objectOf({ at: integer, counts: routeCounts, sincePrevious: routeCounts }),
    redaction: objectOf({ strings: integer, redactedStrings: integer, keptValues: integer, via: { type: 'string', enum: [...REDACTION_PATHS] } }),
    upload: uploadReportResponse
  }
}

/** `GET /heap-snapshot/:id/status`. */
export const snapshotJobResponse = {
  type: 'object',
  required: ['id', 'status', 'localFile'],
  properties: {
    id: string,
    status: { type: 'string', enum: [...SNAPSHOT_JOB_STATES] },
    snapshot: writtenSnapshotResponse,
    upload: uploadReportResponse,
    error: objectOf({ code: string, message: string }),
    localFile: boolean
  }
}

/** `POST /heap-snapshot/:id/upload`. */
export const snapshotUploadResponse = objectOf({ id: string, upload: uploadReportResponse })

/** The 502 of an upload asked for that failed: the error fields and the report. */
export const uploadFailedResponse = {
  ...errorResponse,
  required: [...errorResponse.required, 'upload'],
  properties: { ...errorResponse.properties, upload: uploadReportResponse }
}

/** `POST /heap-profile/upload`. */
export const heapProfileUploadResponse = objectOf({ format: string, samples: integer, takenAt: string, upload: uploadReportResponse })

export const snapshotStatusResponse = objectOf({
  allowed: boolean,
  reason: string,
  ...headroomFigures,
  inProgress: boolean,
  last: { ...writtenSnapshotResponse, type: ['object', 'null'] },
  retained: objectOf({
    allocator: { type: 'string', enum: [...ALLOCATORS] },
    returnsMemory: boolean,
    retainedBytes: integer,
    reusableBytes: integer
  })
})

export const snapshotPendingResponse = objectOf({
  id: string,
  status: { type: 'string', enum: ['in-progress'] },
  location: string
})

/** The 409 of `POST /heap-snapshot`: a snapshot being taken or sent, or the cool-down after one and what is left of it. */
export const snapshotConflictResponse = {
  ...errorResponse,
  properties: {
    ...errorResponse.properties,
    code: { type: 'string', enum: [new SnapshotInProgressError().code, new SnapshotCoolingDownError(0).code] },
    coolDownLeftMs: integer
  }
}

/** The 503 refusal of the headroom guard: the error fields and the figures that decided. */
export const insufficientHeadroomResponse = {
  ...errorResponse,
  required: [...errorResponse.required, ...Object.keys(headroomFigures)],
  properties: { ...errorResponse.properties, ...headroomFigures }
}

/** A snapshot file sent as it is or gzip'ed: not serialized, declared for documentation. */
export const snapshotFileResponse = { type: 'string', format: 'binary' } as const

export const noContentResponse = { type: 'null' } as const

/** The sampling heap profiler's state: the answer of `POST /heap-profile`, and `heapProfile` in `GET /memory`. */
export const heapProfileStatusResponse = objectOf({
  available: boolean,
  running: boolean,
  intervalBytes: nullableInteger,
  stackDepth: nullableInteger,
  since: nullableString,
  stoppedByOtherAt: nullableString,
  memory: {
    type: ['object', 'null'],
    required: ['samples', 'nodes', 'estimatedBytes', 'readAt'],
    properties: { samples: integer, nodes: integer, estimatedBytes: integer, readAt: { type: 'string' } }
  }
})

/** A `.heapprofile` (JSON) or a gzipped pprof, sent as bytes: declared for documentation. */
export const heapProfileFileResponse = { type: 'string', format: 'binary' } as const

export const memoryResponse = objectOf({
  process: integers('rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'),
  outsideHeap: objectOf({
    externalBytes: integer,
    arrayBuffersBytes: integer,
    rssAnonBytes: nullableInteger,
    rssFileBytes: nullableInteger,
    rssShmemBytes: nullableInteger,
    threads: nullableInteger,
    unexplainedBytes: integer,
    activeResources: { type: 'object', additionalProperties: integer }
  }),
  heap: integers(
    'total_heap_size', 'total_heap_size_executable', 'total_physical_size', 'total_available_size',
    'used_heap_size', 'heap_size_limit', 'malloced_memory', 'peak_malloced_memory', 'does_zap_garbage',
    'number_of_native_contexts', 'number_of_detached_contexts', 'total_global_handles_size',
    'used_global_handles_size', 'external_memory'
  ),
  heapSpaces: {
    type: 'array',
    items: objectOf({
      space_name: { type: 'string' },
      space_size: integer,
      space_used_size: integer,
      space_available_size: integer,
      physical_space_size: integer
    })
  },
  container: objectOf({
    source: { type: 'string', enum: ['cgroup-v2', 'cgroup-v1', 'none'] },
    cgroupDir: nullableString,
    limitBytes: nullableInteger,
    limitFile: nullableString,
    usageBytes: nullableInteger,
    usageFile: nullableString,
    constrainedMemoryBytes: nullableInteger
  }),
  system: integers('totalBytes', 'availableBytes'),
  rssToHeapRatio: number,
  pid: integer,
  hostname: { type: 'string' },
  uptimeSeconds: number,
  timestamp: { type: 'string' },
  snapshot: snapshotStatusResponse,
  heapProfile: heapProfileStatusResponse,
  trend: trendReportResponse()
})

function trendReportResponse () {
  const nullableNumber = { type: ['number', 'null'] } as const
  const seriesFields = {
    slopeBytesPerMinute: nullableNumber,
    confidence: nullableNumber,
    relativeGrowth: nullableNumber,
    samples: integer,
    spanMs: number
  }
  return objectOf({
    verdict: { type: 'string', enum: [...TREND_VERDICTS] },
    since: nullableString,
    reason: { type: 'string' },
    latest: objectOf({ verdict: { type: 'string', enum: [...TREND_VERDICTS] }, assessments: integer, since: { type: 'string' } }),
    grewAt: nullableString,
    windowMs: integer,
    heap: objectOf({ ...seriesFields, garbageBytesPerMinute: nullableNumber, majorGcs: integer, recent: { type: 'boolean' } }),
    external: objectOf(seriesFields),
    rss: objectOf(seriesFields),
    outsideHeap: objectOf(seriesFields),
    timeToLimit: {
      anyOf: [
        { type: 'null' },
        objectOf({ seconds: integer, limit: { type: 'string', enum: [...MEMORY_LIMITS] }, bytesLeft: number, bytesPerMinute: integer })
      ]
    }
  })
}

const pauseStats = objectOf({
  count: integer,
  totalMs: number,
  maxMs: number,
  p50Ms: number,
  p95Ms: number,
  p99Ms: number
})

function gcPeriod (extra: Record<string, unknown>) {
  return objectOf({
    durationMs: number,
    count: integer,
    totalPauseMs: number,
    gcShare: number,
    kinds: objectOf({ minor: pauseStats, major: pauseStats, incremental: pauseStats, weakcb: pauseStats }),
    ...extra
  })
}

export const gcStatsResponse = objectOf({
  sinceStart: gcPeriod({ startedAt: { type: 'string' } }),
  window: gcPeriod({ windowMs: integer }),
  timestamp: { type: 'string' }
})
