import { resolve } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { unusableTokenReason } from './auth.js'
import { DEFAULTS } from './defaults.js'
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
   * application has not registered it). `false` turns them all off. Each route's default is on
   * its own option: 60 per minute, 2 per 10 minutes for `takeSnapshot`.
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

/** An options group with every default filled in. */
type Filled<T> = { [K in keyof T]-?: Exclude<T[K], undefined> }

export type ResolvedAuth = Filled<Omit<AuthOptions, 'tokens'>> & { tokens: string[] }
export type ResolvedSnapshot = Filled<SnapshotOptions>

export interface ResolvedOptions {
  auth: ResolvedAuth | false
  rateLimit: Filled<Omit<RateLimitOptions, 'failedAuth'>>
  /** `rateLimit.failedAuth`: apart, since it is no route's budget. */
  failedAuthLimit: Filled<RateLimitOptions>['failedAuth']
  gc: Filled<GcOptions>
  snapshot: ResolvedSnapshot
  trend: Filled<Omit<TrendOptions, 'thresholds'>> & { thresholds: ResolvedTrendThresholds }
  metrics: Filled<MetricsOptions> | null
  cgroup: Filled<NonNullable<MemoryDiagnosticsOptions['cgroup']>>
}

const MIN_TOKEN_LENGTH = 16

export function resolveOptions (opts: MemoryDiagnosticsOptions | undefined): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') {
    throw new InvalidOptionError('options are required, with an `auth` option (`{ auth: { tokens: [process.env.DIAGNOSTICS_TOKEN] } }`)')
  }
  return {
    auth: resolveAuth(opts.auth),
    rateLimit: resolveRateLimit(opts.rateLimit),
    failedAuthLimit: resolveFailedAuthLimit(opts.rateLimit),
    gc: resolveGc(opts.gc),
    snapshot: resolveSnapshot(opts.snapshot),
    trend: resolveTrend(opts.trend),
    metrics: resolveMetrics(opts.metrics),
    cgroup: resolveCgroup(opts.cgroup)
  }
}

function resolveGc (gc: GcOptions | undefined): ResolvedOptions['gc'] {
  optionalObject(gc, 'gc')
  return { windowMs: positiveInteger(gc?.windowMs, DEFAULTS.gc.windowMs, 'gc.windowMs') }
}

function resolveCgroup (cgroup: MemoryDiagnosticsOptions['cgroup']): ResolvedOptions['cgroup'] {
  optionalObject(cgroup, 'cgroup')
  return {
    root: stringOption(cgroup?.root, DEFAULTS.cgroup.root, 'cgroup.root'),
    procSelfCgroup: stringOption(cgroup?.procSelfCgroup, DEFAULTS.cgroup.procSelfCgroup, 'cgroup.procSelfCgroup')
  }
}

function resolveAuth (auth: AuthOptions | false | undefined): ResolvedAuth | false {
  if (auth === false) return false
  if (auth === undefined || auth === null || typeof auth !== 'object') {
    throw new InvalidOptionError('the `auth` option is required: give `auth.tokens` and/or `auth.strategies` (or `auth: false` to run the routes open, not recommended)')
  }
  const tokens = auth.tokens === undefined ? [...DEFAULTS.auth.tokens] : Array.isArray(auth.tokens) ? [...auth.tokens] : [auth.tokens]
  for (const [index, token] of tokens.entries()) {
    if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
      throw new InvalidOptionError(`every \`auth.tokens\` entry must be a string of at least ${MIN_TOKEN_LENGTH} characters (is an environment variable unset?)`)
    }
    const reason = unusableTokenReason(token)
    if (reason !== null) {
      throw new InvalidOptionError(`\`auth.tokens\` entry ${index} can never match an "Authorization: Bearer" header: it ${reason}`)
    }
  }
  const strategies = auth.strategies ?? DEFAULTS.auth.strategies
  if (!Array.isArray(strategies) || strategies.some((s) => typeof s !== 'function')) {
    throw new InvalidOptionError('`auth.strategies` must be an array of functions')
  }
  if (tokens.length === 0 && strategies.length === 0) {
    throw new InvalidOptionError('`auth` needs at least one of `auth.tokens` or `auth.strategies` (or `auth: false` to run the routes open, not recommended)')
  }
  const relation = auth.relation ?? DEFAULTS.auth.relation
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
    memory: routeRateLimit(rateLimit, 'memory'),
    gcStats: routeRateLimit(rateLimit, 'gcStats'),
    takeSnapshot: routeRateLimit(rateLimit, 'takeSnapshot'),
    snapshotFiles: routeRateLimit(rateLimit, 'snapshotFiles'),
    metrics: routeRateLimit(rateLimit, 'metrics')
  }
}

function resolveFailedAuthLimit (rateLimit: RateLimitOptions | false | undefined): RouteRateLimit | false {
  // an invalid `rateLimit` itself is reported by resolveRateLimit
  if (rateLimit === false || (rateLimit !== undefined && (rateLimit === null || typeof rateLimit !== 'object'))) return false
  return routeRateLimit(rateLimit, 'failedAuth')
}

function resolveTrend (trend: TrendOptions | undefined): ResolvedOptions['trend'] {
  optionalObject(trend, 'trend')
  const intervalMs = positiveInteger(trend?.intervalMs, DEFAULTS.trend.intervalMs, 'trend.intervalMs')
  const capacityMs = positiveInteger(trend?.capacityMs, DEFAULTS.trend.capacityMs, 'trend.capacityMs')
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
    route: booleanOption(metrics.route, DEFAULTS.metrics.route, 'metrics.route'),
    auth: booleanOption(metrics.auth, DEFAULTS.metrics.auth, 'metrics.auth')
  }
}

function resolveSnapshot (snapshot: SnapshotOptions | undefined): ResolvedSnapshot {
  optionalObject(snapshot, 'snapshot')
  const defaults = DEFAULTS.snapshot
  const guard = booleanOption(snapshot?.guard, defaults.guard, 'snapshot.guard')
  const cacheLineEnds = booleanOption(snapshot?.cacheLineEnds, defaults.cacheLineEnds, 'snapshot.cacheLineEnds')
  if (snapshot !== undefined && 'factor' in snapshot) {
    throw new InvalidOptionError('`snapshot.factor` is gone: the estimate now follows the heap\'s composition (see the README\'s "Heap snapshots"); use `snapshot.marginBytes` to add room')
  }
  return {
    dir: resolve(stringOption(snapshot?.dir, defaults.dir, 'snapshot.dir')),
    guard,
    marginBytes: nonNegativeInteger(snapshot?.marginBytes, defaults.marginBytes, 'snapshot.marginBytes'),
    // null, like leaving it out, is no cap
    maxHeapUsedBytes: positiveInteger(snapshot?.maxHeapUsedBytes ?? undefined, defaults.maxHeapUsedBytes, 'snapshot.maxHeapUsedBytes'),
    maxFiles: positiveInteger(snapshot?.maxFiles, defaults.maxFiles, 'snapshot.maxFiles'),
    maxAgeMs: positiveInteger(snapshot?.maxAgeMs, defaults.maxAgeMs, 'snapshot.maxAgeMs'),
    sendTimeoutMs: positiveInteger(snapshot?.sendTimeoutMs, defaults.sendTimeoutMs, 'snapshot.sendTimeoutMs'),
    cacheLineEnds
  }
}

function routeRateLimit (rateLimit: RateLimitOptions | undefined, route: keyof typeof DEFAULTS.rateLimit): RouteRateLimit | false {
  const value = rateLimit?.[route]
  const fallback = DEFAULTS.rateLimit[route]
  const name = `rateLimit.${route}`
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
