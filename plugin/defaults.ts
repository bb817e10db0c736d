import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuthStrategy, ResolvedOptions, ResolvedRedaction, ResolvedTrendThresholds, RouteRateLimit } from './types/options.js'

const MIB = 1024 * 1024
const KIB = 1024
const READ_LIMIT = { max: 60, timeWindow: 60_000 } as const
const MINUTE = 60_000
const HOUR = 3_600_000

type Defaults<T> = { readonly [K in keyof T]: T[K] extends RouteRateLimit | false ? Readonly<RouteRateLimit> : T[K] }

/**
 * Every option's default, in one place: the options gate fills them in, and a test checks each
 * `@defaultValue` of the option types (what an editor shows the user) against this object.
 * The types make an option added to `ResolvedOptions` without a default here fail to compile.
 */
export const DEFAULTS = {
  auth: { tokens: [] as string[], strategies: [] as AuthStrategy[], relation: 'or' },
  rateLimit: {
    memory: READ_LIMIT,
    gcStats: READ_LIMIT,
    takeSnapshot: { max: 2, timeWindow: 10 * MINUTE },
    snapshotFiles: READ_LIMIT,
    metrics: READ_LIMIT,
    // each read forces a full GC (measured 1 s on a 915 MB heap): 60 a minute could keep the
    // process collecting; ten leave room to start, read a few and stop
    heapProfile: { max: 10, timeWindow: MINUTE },
    failedAuth: READ_LIMIT
  },
  gc: { windowMs: MINUTE },
  snapshot: {
    // One directory per user: another user's process on the same machine cannot share (or pre-create) it.
    get dir (): string {
      /* c8 ignore next -- process.getuid is missing only on Windows */
      const owner = typeof process.getuid === 'function' ? String(process.getuid()) : 'user'
      return join(tmpdir(), `fastify-memory-diagnostics-${owner}`)
    },
    guard: true,
    marginBytes: 64 * MIB,
    maxHeapUsedBytes: null,
    sendTimeoutMs: 30_000,
    maxFiles: 3,
    maxAgeMs: HOUR,
    cacheLineEnds: true,
    redact: false
  },
  // the settings of `snapshot.redact: true`, or of an object that leaves them out
  redact: { keepShorterThan: 0 },
  heapProfile: { continuous: false, intervalBytes: 512 * KIB, stackDepth: 128 },
  trend: {
    intervalMs: 5000,
    capacityMs: HOUR,
    thresholds: {
      windowMs: 10 * MINUTE,
      /** Half the window: the samples must cover at least that much of it. */
      minSpanMs: (windowMs: number): number => 0.5 * windowMs,
      minSamples: 10,
      minSlopeBytesPerMinute: 256 * KIB,
      minRelativeGrowth: 0.05,
      minConfidence: 0.8
    }
  },
  capture: {
    onVerdict: true,
    containerShare: 0.85,
    maxSnapshots: 3,
    spacingMs: 5 * MINUTE,
    periodMs: 24 * HOUR,
    startAfterMs: 5 * MINUTE,
    heapProfile: true
  },
  metrics: { route: false, auth: true },
  upload: {
    prefix: '',
    forcePathStyle: false,
    removeLocalAfterUpload: false,
    retries: 2,
    retryDelayMs: 1000,
    timeoutMs: 30_000,
    // S3's smallest parts, 2 in flight: about 15 MiB held by an upload (the part being filled and
    // two sent), and the shortest synchronous hashing per part (bench/upload.ts: 58 MB peak extra
    // RSS for a 1 GB snapshot, 66-74 MB with 8 MiB parts); 10,000 parts still take 48 GiB of gzip
    partSizeBytes: 5 * MIB,
    queueSize: 2
  },
  cgroup: { root: '/sys/fs/cgroup', procSelfCgroup: '/proc/self/cgroup' }
} as const satisfies {
  auth: Exclude<ResolvedOptions['auth'], false>
  rateLimit: Defaults<ResolvedOptions['rateLimit'] & { failedAuth: ResolvedOptions['failedAuthLimit'] }>
  gc: Defaults<ResolvedOptions['gc']>
  snapshot: Defaults<ResolvedOptions['snapshot']>
  heapProfile: Defaults<ResolvedOptions['heapProfile']>
  redact: Defaults<ResolvedRedaction>
  trend: Defaults<Omit<ResolvedOptions['trend'], 'thresholds'>> & {
    thresholds: Defaults<Omit<ResolvedTrendThresholds, 'minSpanMs'>> & { minSpanMs: (windowMs: number) => number }
  }
  capture: Defaults<Exclude<ResolvedOptions['capture'], null>>
  metrics: Defaults<Omit<Exclude<ResolvedOptions['metrics'], null>, 'registry'>>
  upload: Defaults<Required<Omit<Exclude<ResolvedOptions['upload'], null>, 'bucket' | 'endpoint' | 'region' | 'storageClass' | 'serverSideEncryption' | 'sseKmsKeyId' | 'presignExpiresSeconds'>>>
  cgroup: Defaults<ResolvedOptions['cgroup']>
}
