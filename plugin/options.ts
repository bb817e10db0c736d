import { resolve } from 'node:path'
import { unusableTokenReason } from './auth.js'
import { DEFAULTS } from './defaults.js'
import { InvalidOptionError } from './errors.js'
import { booleanOption, integerBetween, nonNegativeInteger, optionalObject, positiveInteger, stringOption } from './option-checks.js'
import { HEAP_PROFILE_LIMITS } from './heap-profile/limits.js'
import { resolveTrendThresholds } from './trend/thresholds.js'
import { resolveUpload } from './upload/upload-options.js'
import type { AuthOptions, CaptureOptions, GcOptions, HeapProfileOptions, MemoryDiagnosticsOptions, MetricsOptions, RateLimitOptions, ResolvedAuth, ResolvedOptions, ResolvedRedaction, ResolvedSnapshot, RouteRateLimit, SnapshotOptions, TrendOptions } from './types/options.js'

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
    heapProfile: resolveHeapProfile(opts.heapProfile),
    trend: resolveTrend(opts.trend),
    capture: resolveCapture(opts.capture),
    metrics: resolveMetrics(opts.metrics),
    upload: resolveUpload(opts.upload),
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
  if (rateLimit === false) return { memory: false, gcStats: false, takeSnapshot: false, snapshotFiles: false, metrics: false, heapProfile: false }
  if (rateLimit !== undefined && (rateLimit === null || typeof rateLimit !== 'object')) {
    throw new InvalidOptionError('`rateLimit` must be an object or false')
  }
  return {
    memory: routeRateLimit(rateLimit, 'memory'),
    gcStats: routeRateLimit(rateLimit, 'gcStats'),
    takeSnapshot: routeRateLimit(rateLimit, 'takeSnapshot'),
    snapshotFiles: routeRateLimit(rateLimit, 'snapshotFiles'),
    metrics: routeRateLimit(rateLimit, 'metrics'),
    heapProfile: routeRateLimit(rateLimit, 'heapProfile')
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

function resolveCapture (capture: CaptureOptions | false | undefined): ResolvedOptions['capture'] {
  const given = capture === false ? undefined : optionalObject(capture, 'capture')
  if (given === undefined) return null
  const defaults = DEFAULTS.capture
  const share = given.containerShare === undefined ? defaults.containerShare : given.containerShare
  if (share !== null && (typeof share !== 'number' || !(share > 0 && share <= 1))) {
    throw new InvalidOptionError(`\`capture.containerShare\` must be a number in (0, 1] or null, got ${String(share)}`)
  }
  return {
    onVerdict: booleanOption(given.onVerdict, defaults.onVerdict, 'capture.onVerdict'),
    containerShare: share,
    maxSnapshots: nonNegativeInteger(given.maxSnapshots, defaults.maxSnapshots, 'capture.maxSnapshots'),
    spacingMs: positiveInteger(given.spacingMs, defaults.spacingMs, 'capture.spacingMs'),
    periodMs: positiveInteger(given.periodMs, defaults.periodMs, 'capture.periodMs'),
    startAfterMs: nonNegativeInteger(given.startAfterMs, defaults.startAfterMs, 'capture.startAfterMs'),
    heapProfile: booleanOption(given.heapProfile, defaults.heapProfile, 'capture.heapProfile')
  }
}

function resolveHeapProfile (heapProfile: HeapProfileOptions | undefined): ResolvedOptions['heapProfile'] {
  optionalObject(heapProfile, 'heapProfile')
  const defaults = DEFAULTS.heapProfile
  return {
    continuous: booleanOption(heapProfile?.continuous, defaults.continuous, 'heapProfile.continuous'),
    intervalBytes: integerBetween(HEAP_PROFILE_LIMITS.intervalBytes, heapProfile?.intervalBytes, defaults.intervalBytes, 'heapProfile.intervalBytes'),
    stackDepth: integerBetween(HEAP_PROFILE_LIMITS.stackDepth, heapProfile?.stackDepth, defaults.stackDepth, 'heapProfile.stackDepth')
  }
}

function resolveSnapshot (snapshot: SnapshotOptions | undefined): ResolvedSnapshot {
  optionalObject(snapshot, 'snapshot')
  const defaults = DEFAULTS.snapshot
  const guard = booleanOption(snapshot?.guard, defaults.guard, 'snapshot.guard')
  const cacheLineEnds = booleanOption(snapshot?.cacheLineEnds, defaults.cacheLineEnds, 'snapshot.cacheLineEnds')
  if (snapshot !== undefined && 'factor' in snapshot) {
    throw new InvalidOptionError('`snapshot.factor` is gone: the estimate now follows the heap\'s composition (see docs/headroom-guard.md); use `snapshot.marginBytes` to add room')
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
    cacheLineEnds,
    redact: resolveRedaction(snapshot?.redact)
  }
}

function resolveRedaction (redact: SnapshotOptions['redact']): ResolvedRedaction | false {
  if (redact === undefined || redact === false) return DEFAULTS.snapshot.redact
  if (redact === true) return { ...DEFAULTS.redact }
  if (redact === null || typeof redact !== 'object' || Array.isArray(redact)) {
    throw new InvalidOptionError('`snapshot.redact` must be true, false or { keepShorterThan }')
  }
  const unknown = Object.keys(redact).filter((key) => key !== 'keepShorterThan')
  if (unknown.length > 0) throw new InvalidOptionError(`\`snapshot.redact\` has no option ${unknown.map((key) => `\`${key}\``).join(', ')}`)
  return { keepShorterThan: nonNegativeInteger(redact.keepShorterThan, DEFAULTS.redact.keepShorterThan, 'snapshot.redact.keepShorterThan') }
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
