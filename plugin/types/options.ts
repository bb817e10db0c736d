// The options' contract: what a user may pass and what the gate (options.ts) makes of it.
// Types only, so the contract, the defaults and the code that reads them never import each other.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/**
 * A user authentication strategy, handed to `@fastify/auth` (JWT, mTLS, IP allow-list...): an
 * async function that throws to refuse, or a callback one that calls `done(err)`. An error with
 * `statusCode: 403` answers 403. One signature (not a union) so that an inline
 * `async (request, reply) => {...}` gets its parameter types from it.
 */
export type AuthStrategy = (
  this: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void
) => void | Promise<void>

export interface AuthOptions {
  /**
   * Bearer tokens accepted in `Authorization: Bearer <token>`, compared in constant time.
   * Several tokens allow rotation. Each must be at least 16 characters from RFC 6750's token
   * set (letters, digits, `-._~+/`, trailing `=`): a token that no client could send (a trailing
   * newline from a secrets file, whitespace, non-ASCII) fails registration.
   * @defaultValue `[]`
   */
  tokens?: string | string[]
  /**
   * User strategies, run through `@fastify/auth` after the token check.
   * @defaultValue `[]`
   */
  strategies?: AuthStrategy[]
  /**
   * How the token check and the strategies combine.
   * @defaultValue `'or'`
   */
  relation?: 'or' | 'and'
}

export interface RouteRateLimit {
  /** Requests allowed per window and client IP. */
  max: number
  /** Window length in milliseconds, or a string such as `'1 minute'`. */
  timeWindow: number | string
}

export interface RateLimitOptions {
  /** `GET /memory`. @defaultValue `{ max: 60, timeWindow: 60000 }` (one minute) */
  memory?: RouteRateLimit | false
  /** `GET /gc-stats`. @defaultValue `{ max: 60, timeWindow: 60000 }` (one minute) */
  gcStats?: RouteRateLimit | false
  /** `POST /heap-snapshot`: each one blocks the event loop. @defaultValue `{ max: 2, timeWindow: 600000 }` (10 minutes) */
  takeSnapshot?: RouteRateLimit | false
  /**
   * `GET` and `DELETE /heap-snapshot/:id`, apart from `takeSnapshot` so that a client polling a
   * `202` does not use up the snapshot credits. @defaultValue `{ max: 60, timeWindow: 60000 }` (one minute)
   */
  snapshotFiles?: RouteRateLimit | false
  /** `GET /metrics`, when enabled. @defaultValue `{ max: 60, timeWindow: 60000 }` (one minute) */
  metrics?: RouteRateLimit | false
  /**
   * `POST`, `GET` and `DELETE /heap-profile`, one budget: each `GET` forces a full garbage collection.
   * @defaultValue `{ max: 10, timeWindow: 60000 }` (one minute)
   */
  heapProfile?: RouteRateLimit | false
  /**
   * Failed authentications per client IP, counted apart from the routes' budgets (which count
   * authenticated requests only). Past it, requests that fail authentication get 429 instead of
   * 401; requests with valid credentials still pass, so a stranger can neither spend the
   * operator's budget nor lock them out. @defaultValue `{ max: 60, timeWindow: 60000 }` (one minute)
   */
  failedAuth?: RouteRateLimit | false
}

export interface TrendOptions {
  /**
   * Time between two memory samples, in milliseconds.
   * @defaultValue `5000`
   */
  intervalMs?: number
  /**
   * History kept by the sampler, in milliseconds; at least `intervalMs`.
   * @defaultValue `3600000` (one hour)
   */
  capacityMs?: number
  /** When the trend counts as a leak; see `TrendThresholds` for each default (a 10-minute window). */
  thresholds?: TrendThresholds
}

/**
 * When the trend verdict says "growing". Defaults assume the sampler's 5 s interval; with a
 * shorter window, sample more often (the demo uses a 60 s window and 1 s samples).
 */
export interface TrendThresholds {
  /**
   * Only samples from the last `windowMs` count.
   * @defaultValue `600000` (10 minutes)
   */
  windowMs?: number
  /**
   * The samples must span at least this long, else `insufficient-data`.
   * @defaultValue `0.5 × windowMs`
   */
  minSpanMs?: number
  /**
   * Fewest samples in the window (and in its newer half, for a leak that started inside it).
   * @defaultValue `10`
   */
  minSamples?: number
  /**
   * Slowest growth worth reporting, in bytes per minute, after subtracting the rate at which
   * garbage was promoted into the old generation during the last full GC cycle.
   * @defaultValue `262144` (256 KiB/min = 15 MiB/hour)
   */
  minSlopeBytesPerMinute?: number
  /**
   * Smallest rise over the fitted span relative to the level at its start (0.05 = 5%). Measured
   * here: steady traffic on a 13 MB heap promotes garbage at 0.6 MB/min between major GCs, 4.6% in
   * a 60 s window; a leak of 3.5 MB/min on the same service rises 27%.
   * @defaultValue `0.05`
   */
  minRelativeGrowth?: number
  /**
   * Smallest share of sample pairs agreeing on the rise (see `SlopeFit.confidence`): noise gives
   * 0.5; a one-off step gives at most 0.75, a steady rise close to 1.
   * @defaultValue `0.8`
   */
  minConfidence?: number
}

export type ResolvedTrendThresholds = Required<TrendThresholds>

export interface MetricsOptions {
  /** A prom-client `Registry` (prom-client is an optional peer dependency); `memdiag_*` metrics are added to it. */
  registry: MetricsRegistry
  /**
   * Add a `GET /metrics` route serving this registry.
   * @defaultValue `false`
   */
  route?: boolean
  /**
   * Whether `GET /metrics` needs the plugin's auth (Prometheus scrapes with `bearer_token`).
   * @defaultValue `true`
   */
  auth?: boolean
}

/** The part of a prom-client `Registry` the plugin uses (prom-client stays an optional peer). */
export interface MetricsRegistry {
  readonly contentType: string
  metrics (): Promise<string>
  getSingleMetric (name: string): unknown
  removeSingleMetric (name: string): void
}

export interface SnapshotOptions {
  /**
   * Where snapshot files are written. Created 0700 when missing; an existing directory must be
   * owned by this process's user and closed to group and others, or registration fails.
   * @defaultValue `<os.tmpdir()>/fastify-memory-diagnostics-<uid>`
   */
  dir?: string
  /**
   * Refuse a snapshot (503) when its estimated native memory exceeds the memory really available
   * (see docs/headroom-guard.md for the cost model). `false` disables the check (a warning
   * is logged at startup): a snapshot that does not fit gets the process killed by the kernel's
   * OOM killer, without any error or log.
   * @defaultValue `true`
   */
  guard?: boolean
  /** Safety margin added to the estimate, in bytes. @defaultValue `67108864` (64 MiB) */
  marginBytes?: number
  /** Refuse a snapshot while heapUsed exceeds this many bytes, whatever the memory available. @defaultValue `null` (no cap) */
  maxHeapUsedBytes?: number | null
  /**
   * A download (`?download=true`, `GET /heap-snapshot/:id`) that sends nothing for this long, its
   * client having stopped reading, is ended, and the snapshot lock released. In milliseconds.
   * @defaultValue `30000`
   */
  sendTimeoutMs?: number
  /** How many snapshot files to keep (the newest). @defaultValue `3` */
  maxFiles?: number
  /** Snapshot files older than this are removed, in milliseconds. @defaultValue `3600000` (1 hour) */
  maxAgeMs?: number
  /**
   * Before each snapshot, have V8 compute the line tables of all scripts (through an in-process
   * inspector session): Node 20 otherwise rescans a big script (a bundle, a compiler) for every
   * function in the snapshot, measured 66 s instead of 2 s. It also resets V8's block coverage
   * counters: it is skipped on its own under c8, `node --test` coverage and tap; turn it off in a
   * process whose code coverage another tool measures through V8. @defaultValue `true`
   */
  cacheLineEnds?: boolean
  /**
   * Replace the values of strings in each snapshot as it is written (tokens, passwords, users'
   * data), keeping what the analysis reads: class, function, property and variable names, script
   * URLs, ids, sizes, the graph and the request-count marks. `true`, or settings. V8 writes into a
   * pipe that a worker thread rewrites: the raw snapshot never reaches the disk (without `mkfifo`,
   * into a 0600 file removed at once). Off by default: see docs/security.md#redaction for why and
   * for what it does not hide (property names, dictionary keys).
   * @defaultValue `false`
   */
  redact?: boolean | RedactOptions
}

/** `snapshot.redact` as settings. */
export interface RedactOptions {
  /** Keep string values shorter than this many characters (enums, short codes). @defaultValue `0` (none) */
  keepShorterThan?: number
}

/** `snapshot.redact` resolved: false when off. */
export interface ResolvedRedaction {
  keepShorterThan: number
}

/** V8's sampling heap profiler behind `/heap-profile`; the query of `POST /heap-profile` overrides the two settings. */
export interface HeapProfileOptions {
  /**
   * Start sampling at registration (and stop at close), so that the profile covers the time since
   * the process started when an alert fires.
   * @defaultValue `false`
   */
  continuous?: boolean
  /**
   * Average bytes allocated between two samples (Poisson-distributed), 1 KiB to 1 GiB. Smaller
   * sees smaller leaks sooner and costs more CPU.
   * @defaultValue `524288` (512 KiB, as Google Cloud Profiler and Datadog sample the heap)
   */
  intervalBytes?: number
  /**
   * Frames kept per stack in the answered profiles, the innermost ones, 1 to 128. V8's inspector
   * always records up to 128 frames: a smaller value shortens the profiles, not what the process holds.
   * @defaultValue `128`
   */
  stackDepth?: number
}

/** Server-side encryption asked of the store for each object (S3's `x-amz-server-side-encryption`). */
export const SERVER_SIDE_ENCRYPTIONS = ['AES256', 'aws:kms', 'aws:kms:dsse'] as const
export type ServerSideEncryption = typeof SERVER_SIDE_ENCRYPTIONS[number]

/**
 * An S3-compatible bucket where heap snapshots and heap profiles are uploaded, gzip'ed, through
 * the official AWS SDK (`@aws-sdk/client-s3` and `@aws-sdk/lib-storage`, optional peer
 * dependencies: install them to use this). One sink for both kinds of capture. Credentials are
 * never options: the SDK's default provider chain reads them (`AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, web identity in Kubernetes, the ECS or EC2 role), and
 * an option that looks like one fails registration. See docs/object-storage.md.
 */
export interface UploadOptions {
  /** The bucket. Required. */
  bucket: string
  /**
   * Put before every key (`diagnostics/checkout/`); the key then goes on with the hostname, the
   * pid and the capture's time and id: `<prefix><hostname>/<pid>/heap-<id>.heapsnapshot.gz`.
   * @defaultValue `''`
   */
  prefix?: string
  /** The store's URL for anything but AWS S3 (MinIO, Ceph, R2, GCS's XML API). Left out: AWS S3 in `region`. */
  endpoint?: string
  /** Left out: what the SDK reads (`AWS_REGION`, the profile), else `us-east-1`. */
  region?: string
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO and most self-hosted stores). @defaultValue `false` */
  forcePathStyle?: boolean
  /** The objects' storage class (`STANDARD_IA`, `GLACIER_IR`...), as the store spells it. Left out: the bucket's. */
  storageClass?: string
  /** Left out: the bucket's default encryption. */
  serverSideEncryption?: ServerSideEncryption
  /** The KMS key for `serverSideEncryption: 'aws:kms'`. Left out: the account's default key. */
  sseKmsKeyId?: string
  /**
   * Remove a snapshot's local file once it is uploaded (a failed upload always keeps it, for a
   * retry with `POST /heap-snapshot/:id/upload`). Otherwise it follows `maxFiles`/`maxAgeMs`.
   * @defaultValue `false`
   */
  removeLocalAfterUpload?: boolean
  /** Answer a presigned GET URL with each upload, valid this many seconds (1 to 604800). Left out: no URL. */
  presign?: { expiresSeconds: number }
  /**
   * Whole uploads tried again after a failure that may pass (network, timeout, 5xx, throttling),
   * each after a backoff doubling from `retryDelayMs`; a denied access or a missing bucket is not
   * retried. The SDK's own retries of each request come on top (3 attempts).
   * @defaultValue `2`
   */
  retries?: number
  /** The first backoff, in milliseconds, doubled at each retry, with jitter. @defaultValue `1000` */
  retryDelayMs?: number
  /** A request to the store that sends or receives nothing for this long fails (a stalled store). @defaultValue `30000` */
  timeoutMs?: number
  /**
   * Size of each multipart part, 5 MiB to 512 MiB. Memory held by an upload is about
   * `partSizeBytes × (queueSize + 1)`, whatever the snapshot's size. @defaultValue `5242880` (5 MiB)
   */
  partSizeBytes?: number
  /** Parts uploaded in parallel, 1 to 16. @defaultValue `2` */
  queueSize?: number
}

export interface GcOptions {
  /**
   * Length of the "recent" window reported by `GET /gc-stats`, in milliseconds.
   * @defaultValue `60000`
   */
  windowMs?: number
}

export interface MemoryDiagnosticsOptions {
  /**
   * Who may call the routes. Required: registering without it fails at startup.
   * `false` runs the routes open, with a warning logged at every start.
   */
  auth: AuthOptions | false
  /**
   * Per-route rate limits through `@fastify/rate-limit` (registered inside the plugin when the
   * application has not registered it). `false` turns them all off. Each route's default is on
   * its own option: 60 per minute, 2 per 10 minutes for `takeSnapshot`.
   */
  rateLimit?: RateLimitOptions | false
  /** Garbage collection recording. */
  gc?: GcOptions
  /** Heap snapshots: where they are written, how long they are kept, the headroom guard. */
  snapshot?: SnapshotOptions
  /** V8's sampling heap profiler behind `/heap-profile`: its default settings, and whether it runs from registration. */
  heapProfile?: HeapProfileOptions
  /** The memory sampler and the leak verdict of `GET /memory`. */
  trend?: TrendOptions
  /** Upload heap snapshots and heap profiles to an S3-compatible bucket. Left out, nothing leaves the process. */
  upload?: UploadOptions
  /**
   * Evidence gathered by the plugin itself when the verdict turns (opt-in): a heap profile at once,
   * heap snapshots spaced for find-leaks, when the guard and the snapshot rate limit allow.
   * `false` or absent: never.
   */
  capture?: CaptureOptions | false
  /** Prometheus metrics on a prom-client registry, and an optional `GET /metrics` route. */
  metrics?: MetricsOptions
  /**
   * Where the cgroup hierarchy is mounted and where the process's cgroup membership is read.
   * Only tests need to change these.
   * @defaultValue `{ root: '/sys/fs/cgroup', procSelfCgroup: '/proc/self/cgroup' }`
   */
  cgroup?: { root?: string, procSelfCgroup?: string }
}

export interface CaptureOptions {
  /**
   * Capture when the trend verdict becomes `growing-heap` or `growing-native`.
   * @defaultValue `true`
   */
  onVerdict?: boolean
  /**
   * Capture when the container's memory use passes this share of its limit (0 < share <= 1);
   * `null` never. No effect without a container limit.
   * @defaultValue `0.85`
   */
  containerShare?: number | null
  /**
   * Heap snapshots captured at most over `periodMs`, counted across restarts (the captures are
   * recorded in the snapshot directory): three make find-leaks surest.
   * @defaultValue `3`
   */
  maxSnapshots?: number
  /**
   * Time between two captures. Raised to what the `takeSnapshot` rate limit allows (its window over
   * its max) when that is longer.
   * @defaultValue `300000`
   */
  spacingMs?: number
  /**
   * The period over which `maxSnapshots` counts.
   * @defaultValue `86400000`
   */
  periodMs?: number
  /**
   * Nothing is captured before the process has run this long (its start is often a climb).
   * @defaultValue `300000`
   */
  startAfterMs?: number
  /**
   * Write a sampling heap profile with each capture (sampling starts at the first, if it did not run).
   * @defaultValue `true`
   */
  heapProfile?: boolean
}

/** An options group with every default filled in. */
type Filled<T> = { [K in keyof T]-?: Exclude<T[K], undefined> }

export type ResolvedAuth = Filled<Omit<AuthOptions, 'tokens'>> & { tokens: string[] }
export type ResolvedSnapshot = Filled<Omit<SnapshotOptions, 'redact'>> & { redact: ResolvedRedaction | false }
/** `upload` checked, its defaults filled; what the SDK reads itself (endpoint, region...) stays optional. */
export type ResolvedUpload = Filled<Pick<UploadOptions, 'bucket' | 'prefix' | 'forcePathStyle' | 'removeLocalAfterUpload' | 'retries' | 'retryDelayMs' | 'timeoutMs' | 'partSizeBytes' | 'queueSize'>> &
  Pick<UploadOptions, 'endpoint' | 'region' | 'storageClass' | 'serverSideEncryption' | 'sseKmsKeyId'> & { presignExpiresSeconds: number | null }
export type ResolvedCapture = Filled<Omit<CaptureOptions, 'containerShare'>> & { containerShare: number | null }

export interface ResolvedOptions {
  auth: ResolvedAuth | false
  rateLimit: Filled<Omit<RateLimitOptions, 'failedAuth'>>
  /** `rateLimit.failedAuth`: apart, since it is no route's budget. */
  failedAuthLimit: Filled<RateLimitOptions>['failedAuth']
  gc: Filled<GcOptions>
  snapshot: ResolvedSnapshot
  heapProfile: Filled<HeapProfileOptions>
  trend: Filled<Omit<TrendOptions, 'thresholds'>> & { thresholds: ResolvedTrendThresholds }
  capture: ResolvedCapture | null
  metrics: Filled<MetricsOptions> | null
  upload: ResolvedUpload | null
  cgroup: Filled<NonNullable<MemoryDiagnosticsOptions['cgroup']>>
}
