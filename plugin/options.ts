import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { unusableTokenReason } from './auth.js'
import { InvalidOptionError } from './errors.js'
import { booleanOption, nonNegativeInteger, optionalObject, positiveInteger, stringOption } from './option-checks.js'
import type { MetricsRegistry } from './metrics.js'
import { resolveTrendThresholds } from './trend/thresholds.js'
import type { ResolvedTrendThresholds, TrendThresholds } from './trend/thresholds.js'

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
  /** `GET /memory`. @defaultValue `{ max: 60, timeWindow: '1 minute' }` */
  memory?: RouteRateLimit | false
  /** `GET /gc-stats`. @defaultValue `{ max: 60, timeWindow: '1 minute' }` */
  gcStats?: RouteRateLimit | false
  /** `POST /heap-snapshot`: each one blocks the event loop. @defaultValue `{ max: 2, timeWindow: '10 minutes' }` */
  takeSnapshot?: RouteRateLimit | false
  /**
   * `GET` and `DELETE /heap-snapshot/:id`, apart from `takeSnapshot` so that a client polling a
   * `202` does not use up the snapshot credits. @defaultValue `{ max: 60, timeWindow: '1 minute' }`
   */
  snapshotFiles?: RouteRateLimit | false
  /** `GET /metrics`, when enabled. @defaultValue `{ max: 60, timeWindow: '1 minute' }` */
  metrics?: RouteRateLimit | false
  /**
   * Failed authentications per client IP, counted apart from the routes' budgets (which count
   * authenticated requests only). Past it, requests that fail authentication get 429 instead of
   * 401; requests with valid credentials still pass, so a stranger can neither spend the
   * operator's budget nor lock them out. @defaultValue `{ max: 60, timeWindow: '1 minute' }`
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

export interface SnapshotOptions {
  /**
   * Where snapshot files are written. Created 0700 when missing; an existing directory must be
   * owned by this process's user and closed to group and others, or registration fails.
   * @defaultValue `<os.tmpdir()>/fastify-memory-diagnostics-<uid>`
   */
  dir?: string
  /**
   * Refuse a snapshot (503) when its estimated native memory exceeds the memory really available
   * (see the README's "Heap snapshots" for the cost model). `false` disables the check (a warning
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
   * application has not registered it). `false` turns them all off.
   * @defaultValue read routes 60 per minute
   */
  rateLimit?: RateLimitOptions | false
  /** Garbage collection recording. */
  gc?: GcOptions
  /** Heap snapshots: where they are written, how long they are kept, the headroom guard. */
  snapshot?: SnapshotOptions
  /** The memory sampler and the leak verdict of `GET /memory`. */
  trend?: TrendOptions
  /** Prometheus metrics on a prom-client registry, and an optional `GET /metrics` route. */
  metrics?: MetricsOptions
  /**
   * Where the cgroup hierarchy is mounted and where the process's cgroup membership is read.
   * Only tests need to change these.
   * @defaultValue `{ root: '/sys/fs/cgroup', procSelfCgroup: '/proc/self/cgroup' }`
   */
  cgroup?: { root?: string, procSelfCgroup?: string }
}

export interface ResolvedAuth {
  tokens: string[]
  strategies: AuthStrategy[]
  relation: 'or' | 'and'
}

export interface ResolvedSnapshot {
  dir: string
  guard: boolean
  marginBytes: number
  maxHeapUsedBytes: number | null
  maxFiles: number
  maxAgeMs: number
  sendTimeoutMs: number
  cacheLineEnds: boolean
}

export interface ResolvedOptions {
  auth: ResolvedAuth | false
  rateLimit: {
    memory: RouteRateLimit | false
    gcStats: RouteRateLimit | false
    takeSnapshot: RouteRateLimit | false
    snapshotFiles: RouteRateLimit | false
    metrics: RouteRateLimit | false
  }
  /** `rateLimit.failedAuth`: apart, since it is no route's budget. */
  failedAuthLimit: RouteRateLimit | false
  gc: { windowMs: number }
  snapshot: ResolvedSnapshot
  trend: { intervalMs: number, capacityMs: number, thresholds: ResolvedTrendThresholds }
  metrics: { registry: MetricsRegistry, route: boolean, auth: boolean } | null
  cgroup: { root: string, procSelfCgroup: string }
}

const MIN_TOKEN_LENGTH = 16
const READ_LIMIT: RouteRateLimit = { max: 60, timeWindow: 60_000 }
const SNAPSHOT_LIMIT: RouteRateLimit = { max: 2, timeWindow: 600_000 }
const FAILED_AUTH_LIMIT: RouteRateLimit = { max: 60, timeWindow: 60_000 }
const MIB = 1024 * 1024

export function resolveOptions (opts: MemoryDiagnosticsOptions | undefined): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') {
    throw new InvalidOptionError('options are required, with an `auth` option (`{ auth: { tokens: [process.env.DIAGNOSTICS_TOKEN] } }`)')
  }
  return {
    auth: resolveAuth(opts.auth),
    rateLimit: resolveRateLimit(opts.rateLimit),
    failedAuthLimit: resolveFailedAuthLimit(opts.rateLimit),
    gc: { windowMs: positiveInteger(opts.gc?.windowMs, 60_000, 'gc.windowMs') },
    snapshot: resolveSnapshot(opts.snapshot),
    trend: resolveTrend(opts.trend),
    metrics: resolveMetrics(opts.metrics),
    cgroup: {
      root: stringOption(opts.cgroup?.root, '/sys/fs/cgroup', 'cgroup.root'),
      procSelfCgroup: stringOption(opts.cgroup?.procSelfCgroup, '/proc/self/cgroup', 'cgroup.procSelfCgroup')
    }
  }
}

function resolveAuth (auth: AuthOptions | false | undefined): ResolvedAuth | false {
  if (auth === false) return false
  if (auth === undefined || auth === null || typeof auth !== 'object') {
    throw new InvalidOptionError('the `auth` option is required: give `auth.tokens` and/or `auth.strategies` (or `auth: false` to run the routes open, not recommended)')
  }
  const tokens = auth.tokens === undefined ? [] : Array.isArray(auth.tokens) ? [...auth.tokens] : [auth.tokens]
  for (const [index, token] of tokens.entries()) {
    if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
      throw new InvalidOptionError(`every \`auth.tokens\` entry must be a string of at least ${MIN_TOKEN_LENGTH} characters (is an environment variable unset?)`)
    }
    const reason = unusableTokenReason(token)
    if (reason !== null) {
      throw new InvalidOptionError(`\`auth.tokens\` entry ${index} can never match an "Authorization: Bearer" header: it ${reason}`)
    }
  }
  const strategies = auth.strategies === undefined ? [] : auth.strategies
  if (!Array.isArray(strategies) || strategies.some((s) => typeof s !== 'function')) {
    throw new InvalidOptionError('`auth.strategies` must be an array of functions')
  }
  if (tokens.length === 0 && strategies.length === 0) {
    throw new InvalidOptionError('`auth` needs at least one of `auth.tokens` or `auth.strategies` (or `auth: false` to run the routes open, not recommended)')
  }
  const relation = auth.relation ?? 'or'
  if (relation !== 'or' && relation !== 'and') {
    throw new InvalidOptionError("`auth.relation` must be 'or' or 'and'")
  }
  return { tokens, strategies: [...strategies], relation }
}

function resolveRateLimit (rateLimit: RateLimitOptions | false | undefined): ResolvedOptions['rateLimit'] {
  if (rateLimit === false) return { memory: false, gcStats: false, takeSnapshot: false, snapshotFiles: false, metrics: false }
  if (rateLimit !== undefined && (rateLimit === null || typeof rateLimit !== 'object')) {
    throw new InvalidOptionError('`rateLimit` must be an object or false')
  }
  return {
    memory: routeRateLimit(rateLimit?.memory, READ_LIMIT, 'rateLimit.memory'),
    gcStats: routeRateLimit(rateLimit?.gcStats, READ_LIMIT, 'rateLimit.gcStats'),
    takeSnapshot: routeRateLimit(rateLimit?.takeSnapshot, SNAPSHOT_LIMIT, 'rateLimit.takeSnapshot'),
    snapshotFiles: routeRateLimit(rateLimit?.snapshotFiles, READ_LIMIT, 'rateLimit.snapshotFiles'),
    metrics: routeRateLimit(rateLimit?.metrics, READ_LIMIT, 'rateLimit.metrics')
  }
}

function resolveFailedAuthLimit (rateLimit: RateLimitOptions | false | undefined): RouteRateLimit | false {
  // an invalid `rateLimit` itself is reported by resolveRateLimit
  if (rateLimit === false || (rateLimit !== undefined && (rateLimit === null || typeof rateLimit !== 'object'))) return false
  return routeRateLimit(rateLimit?.failedAuth, FAILED_AUTH_LIMIT, 'rateLimit.failedAuth')
}

function resolveTrend (trend: TrendOptions | undefined): ResolvedOptions['trend'] {
  optionalObject(trend, 'trend')
  const intervalMs = positiveInteger(trend?.intervalMs, 5000, 'trend.intervalMs')
  const capacityMs = positiveInteger(trend?.capacityMs, 3_600_000, 'trend.capacityMs')
  if (capacityMs < intervalMs) {
    throw new InvalidOptionError(`\`trend.capacityMs\` (${capacityMs}) must be at least \`trend.intervalMs\` (${intervalMs})`)
  }
  // checked here, before the plugin opens anything, so a bad threshold leaves nothing behind
  return { intervalMs, capacityMs, thresholds: resolveTrendThresholds(optionalObject(trend?.thresholds, 'trend.thresholds')) }
}

function resolveMetrics (metrics: MetricsOptions | undefined): ResolvedOptions['metrics'] {
  if (metrics === undefined) return null
  const registry = metrics?.registry
  if (registry === null || typeof registry !== 'object' || typeof registry.metrics !== 'function') {
    throw new InvalidOptionError('`metrics.registry` must be a prom-client Registry')
  }
  return {
    registry,
    route: booleanOption(metrics.route, false, 'metrics.route'),
    auth: booleanOption(metrics.auth, true, 'metrics.auth')
  }
}

function resolveSnapshot (snapshot: SnapshotOptions | undefined): ResolvedSnapshot {
  optionalObject(snapshot, 'snapshot')
  const guard = booleanOption(snapshot?.guard, true, 'snapshot.guard')
  const cacheLineEnds = booleanOption(snapshot?.cacheLineEnds, true, 'snapshot.cacheLineEnds')
  if (snapshot !== undefined && 'factor' in snapshot) {
    throw new InvalidOptionError('`snapshot.factor` is gone: the estimate now follows the heap\'s composition (see the README\'s "Heap snapshots"); use `snapshot.marginBytes` to add room')
  }
  const marginBytes = nonNegativeInteger(snapshot?.marginBytes, 64 * MIB, 'snapshot.marginBytes')
  const maxHeapUsedBytes = snapshot?.maxHeapUsedBytes ?? null
  return {
    dir: resolve(stringOption(snapshot?.dir, defaultSnapshotDir(), 'snapshot.dir')),
    guard,
    marginBytes,
    maxHeapUsedBytes: maxHeapUsedBytes === null ? null : positiveInteger(maxHeapUsedBytes, 0, 'snapshot.maxHeapUsedBytes'),
    maxFiles: positiveInteger(snapshot?.maxFiles, 3, 'snapshot.maxFiles'),
    maxAgeMs: positiveInteger(snapshot?.maxAgeMs, 3_600_000, 'snapshot.maxAgeMs'),
    sendTimeoutMs: positiveInteger(snapshot?.sendTimeoutMs, 30_000, 'snapshot.sendTimeoutMs'),
    cacheLineEnds
  }
}

// One directory per user: another user's process on the same machine cannot share (or pre-create) it.
function defaultSnapshotDir (): string {
  /* c8 ignore next -- process.getuid is missing only on Windows */
  const owner = typeof process.getuid === 'function' ? String(process.getuid()) : 'user'
  return join(tmpdir(), `fastify-memory-diagnostics-${owner}`)
}

export function routeRateLimit (value: RouteRateLimit | false | undefined, fallback: RouteRateLimit, name: string): RouteRateLimit | false {
  if (value === false) return false
  if (value === undefined) return { ...fallback }
  if (value === null || typeof value !== 'object') {
    throw new InvalidOptionError(`\`${name}\` must be { max, timeWindow } or false`)
  }
  const max = positiveInteger(value.max, fallback.max, `${name}.max`)
  const timeWindow = value.timeWindow ?? fallback.timeWindow
  if (typeof timeWindow === 'number' ? !(timeWindow > 0) : typeof timeWindow !== 'string') {
    throw new InvalidOptionError(`\`${name}.timeWindow\` must be a positive number of milliseconds or a string such as '1 minute'`)
  }
  return { max, timeWindow }
}
