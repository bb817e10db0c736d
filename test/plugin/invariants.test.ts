// Invariants of the plugin's lifecycle, each checked so that removing the code that keeps it fails
// a test: close() stops everything registration started, and a failed registration leaves nothing.
import t from 'tap'
import type { Test } from 'tap'
import { createHook } from 'node:async_hooks'
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { Gauge, Registry } from 'prom-client'
import type { Histogram } from 'prom-client'
import { memoryDiagnostics } from '../../plugin/index.js'
import { TOKEN, tempDir } from '../helpers/build-app.js'
import { missingPrerequisite } from '../helpers/missing-prerequisite.js'

const gc = globalThis.gc as () => void
const PLUGIN_DIR = fileURLToPath(new URL('../../plugin/', import.meta.url))
// the single gate for options, and the checks it is made of
const RULE_SOURCES = ['options.ts', 'option-checks.ts', 'trend/thresholds.ts', 'defaults.ts', 'memory-diagnostics.ts'].map((name) => join(PLUGIN_DIR, name))

function openFds (): number {
  return readdirSync('/proc/self/fd').length
}

/** The descriptors open on files under `dir`: the process's total moves with the loader's own files (Node 24). */
function openFdsUnder (dir: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd)).startsWith(dir)
    } catch {
      return false // the descriptor readdirSync used, closed since
    }
  }).length
}

/** A cgroup v1 memory hierarchy in a temporary directory: the probe keeps its two files open. */
function fakeCgroup (t: Test): { root: string, procSelfCgroup: string } {
  const dir = t.testdir({
    proc: '4:memory:/web\n0::/\n',
    cgroup: { memory: { web: { 'memory.limit_in_bytes': '536870912\n', 'memory.usage_in_bytes': '104857600\n' } } }
  })
  return { root: join(dir, 'cgroup'), procSelfCgroup: join(dir, 'proc') }
}

/** The timers created from the plugin's own code (by their creation stack) that are still scheduled. */
function trackPluginTimers () {
  const live = new Set<number>()
  const hook = createHook({
    init (asyncId, type) {
      if (type !== 'Timeout') return
      const stack = new Error().stack ?? ''
      if (stack.includes(PLUGIN_DIR)) live.add(asyncId)
    },
    destroy (asyncId) {
      live.delete(asyncId)
    }
  })
  hook.enable()
  return { count: () => live.size, stop: () => hook.disable() }
}

/** The GC observers the plugin's own code started and has not disconnected. */
function trackPluginGcObservers (t: Test) {
  const live = new Set<PerformanceObserver>()
  const { observe, disconnect } = PerformanceObserver.prototype
  PerformanceObserver.prototype.observe = function (this: PerformanceObserver, options) {
    const types = 'entryTypes' in options ? options.entryTypes : [options.type]
    if (types.includes('gc')) {
      if ((new Error().stack ?? '').includes(PLUGIN_DIR)) live.add(this)
    }
    return observe.call(this, options)
  }
  PerformanceObserver.prototype.disconnect = function (this: PerformanceObserver) {
    live.delete(this)
    return disconnect.call(this)
  }
  t.teardown(() => Object.assign(PerformanceObserver.prototype, { observe, disconnect }))
  return { count: () => live.size }
}

function settle (): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50))
}

async function gcPausesRecorded (pauses: Histogram): Promise<number> {
  const { values } = await pauses.get()
  return values.filter((value) => value.metricName === 'memdiag_gc_pause_seconds_count').reduce((sum, value) => sum + value.value, 0)
}

t.test('close() stops the GC observer, the sampler timer and the cgroup descriptors', async (t) => {
  const cgroup = fakeCgroup(t)
  const dir = tempDir(t)
  const registry = new Registry()
  const timers = trackPluginTimers()
  t.teardown(timers.stop)
  const observers = trackPluginGcObservers(t)

  const app = Fastify()
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, rateLimit: false, snapshot: { dir }, cgroup, metrics: { registry } })
  await app.ready()
  const pauses = registry.getSingleMetric('memdiag_gc_pause_seconds') as Histogram
  gc()
  await settle()
  t.equal(openFdsUnder(cgroup.root), 2, 'while running, the cgroup probe keeps its limit and usage files open')
  t.ok(timers.count() >= 1, 'while running, the sampler\'s timer is scheduled')
  t.equal(observers.count(), 1, 'while running, one GC observer is connected')
  const whileRunning = await gcPausesRecorded(pauses)
  t.ok(whileRunning >= 1, `while running, the GC observer records pauses (${whileRunning})`)

  await app.close()
  t.equal(openFdsUnder(cgroup.root), 0, 'after close, the cgroup descriptors are closed')
  t.equal(observers.count(), 0, 'after close, the GC observer is disconnected')
  gc()
  gc()
  // async_hooks reports a cleared timer's destruction later, not inside clearInterval()
  await settle()
  t.equal(timers.count(), 0, 'after close, no timer started by the plugin is scheduled')
  t.equal(await gcPausesRecorded(pauses), whileRunning, 'after close, the GC observer records nothing')
})

interface InvalidCase {
  name: string
  options: Record<string, unknown>
  /** The error's code; `undefined` for an error that is not the plugin's (prom-client's). */
  code?: string
  message: RegExp
}

const OPTION = 'FST_MEMDIAG_INVALID_OPTION'
const ROUTES = ['memory', 'gcStats', 'takeSnapshot', 'snapshotFiles', 'metrics', 'heapProfile', 'failedAuth'] as const

/** Every rule of the options gate (and the checks registration makes after it), broken one at a time. */
function invalidCases (t: Test): InvalidCase[] {
  const auth = { tokens: [TOKEN] }
  const registry = new Registry()
  const invalid = (name: string, options: Record<string, unknown>, message: RegExp): InvalidCase => ({ name, options: { auth, ...options }, code: OPTION, message })
  const cases: InvalidCase[] = [
    // Fastify hands the plugin {} when it is registered without options
    { name: 'no options', options: undefined as never, code: OPTION, message: /`auth` option is required/ },
    { name: 'options not an object', options: 'auth' as never, code: OPTION, message: /options are required/ },
    { name: 'no auth', options: {}, code: OPTION, message: /`auth` option is required/ },
    invalid('auth not an object', { auth: 'yes' }, /`auth` option is required/),
    invalid('auth null', { auth: null }, /`auth` option is required/),
    invalid('auth without tokens or strategies', { auth: {} }, /at least one of `auth.tokens` or `auth.strategies`/),
    invalid('empty token list', { auth: { tokens: [] } }, /at least one of/),
    invalid('unset token', { auth: { tokens: [undefined] } }, /at least 16 characters/),
    invalid('short token', { auth: { tokens: 'short' } }, /at least 16 characters/),
    invalid('token not a string', { auth: { tokens: [1234567890123456] } }, /at least 16 characters/),
    invalid('token with a trailing newline', { auth: { tokens: [`${TOKEN}\n`] } }, /entry 0 can never match/),
    invalid('token with a space', { auth: { tokens: [TOKEN, `${TOKEN} x`] } }, /entry 1 can never match/),
    invalid('token not ASCII', { auth: { tokens: [`${TOKEN}é`] } }, /entry 0 can never match/),
    invalid('strategies not an array', { auth: { strategies: 'jwt' } }, /`auth.strategies` must be an array of functions/),
    invalid('strategy not a function', { auth: { strategies: ['jwt'] } }, /`auth.strategies` must be an array of functions/),
    invalid('unknown relation', { auth: { tokens: TOKEN, relation: 'xor' } }, /`auth.relation` must be 'or' or 'and'/),
    invalid('rateLimit not an object', { rateLimit: 'often' }, /`rateLimit` must be an object or false/),
    invalid('rateLimit null', { rateLimit: null }, /`rateLimit` must be an object or false/),
    ...ROUTES.flatMap((route) => [
      invalid(`rateLimit.${route} not an object`, { rateLimit: { [route]: 5 } }, new RegExp(`\`rateLimit.${route}\` must be \\{ max, timeWindow \\} or false`)),
      invalid(`rateLimit.${route}.max zero`, { rateLimit: { [route]: { max: 0, timeWindow: 1000 } } }, new RegExp(`\`rateLimit.${route}.max\` must be a positive integer`)),
      invalid(`rateLimit.${route}.timeWindow negative`, { rateLimit: { [route]: { max: 1, timeWindow: -1 } } }, new RegExp(`\`rateLimit.${route}.timeWindow\` must be a positive number`))
    ]),
    invalid('rateLimit max fractional', { rateLimit: { memory: { max: 1.5, timeWindow: 1000 } } }, /`rateLimit.memory.max` must be a positive integer/),
    invalid('rateLimit timeWindow an object', { rateLimit: { memory: { max: 1, timeWindow: {} } } }, /`rateLimit.memory.timeWindow` must be/),
    invalid('gc not an object', { gc: 60_000 }, /`gc` must be an object, got 60000/),
    invalid('gc.windowMs zero', { gc: { windowMs: 0 } }, /`gc.windowMs` must be a positive integer/),
    invalid('gc.windowMs a string', { gc: { windowMs: '60000' } }, /`gc.windowMs` must be a positive integer/),
    invalid('snapshot not an object', { snapshot: 'tmp' }, /`snapshot` must be an object/),
    invalid('snapshot null', { snapshot: null }, /`snapshot` must be an object/),
    invalid('snapshot.guard not a boolean', { snapshot: { guard: 'yes' } }, /`snapshot.guard` must be a boolean/),
    invalid('snapshot.cacheLineEnds not a boolean', { snapshot: { cacheLineEnds: 1 } }, /`snapshot.cacheLineEnds` must be a boolean/),
    invalid('snapshot.sendTimeoutMs zero', { snapshot: { sendTimeoutMs: 0 } }, /`snapshot.sendTimeoutMs` must be a positive integer/),
    invalid('snapshot.factor, gone', { snapshot: { factor: 12.5 } }, /`snapshot.factor` is gone/),
    invalid('snapshot.marginBytes negative', { snapshot: { marginBytes: -1 } }, /`snapshot.marginBytes` must be an integer >= 0/),
    invalid('snapshot.marginBytes fractional', { snapshot: { marginBytes: 1.5 } }, /`snapshot.marginBytes` must be an integer >= 0/),
    invalid('snapshot.dir empty', { snapshot: { dir: '' } }, /`snapshot.dir` must be a non-empty string/),
    invalid('snapshot.dir a number', { snapshot: { dir: 5 } }, /`snapshot.dir` must be a non-empty string/),
    invalid('snapshot.maxHeapUsedBytes zero', { snapshot: { maxHeapUsedBytes: 0 } }, /`snapshot.maxHeapUsedBytes` must be a positive integer/),
    invalid('snapshot.maxFiles zero', { snapshot: { maxFiles: 0 } }, /`snapshot.maxFiles` must be a positive integer/),
    invalid('snapshot.maxAgeMs negative', { snapshot: { maxAgeMs: -5 } }, /`snapshot.maxAgeMs` must be a positive integer/),
    invalid('snapshot.redact a string', { snapshot: { redact: 'yes' } }, /`snapshot.redact` must be true, false or \{ keepShorterThan \}/),
    invalid('snapshot.redact with an unknown key', { snapshot: { redact: { keepUrls: true } } }, /`snapshot.redact` has no option `keepUrls`/),
    invalid('snapshot.redact.keepShorterThan negative', { snapshot: { redact: { keepShorterThan: -1 } } }, /`snapshot.redact.keepShorterThan` must be an integer >= 0/),
    invalid('heapProfile not an object', { heapProfile: true }, /`heapProfile` must be an object/),
    invalid('heapProfile.continuous not a boolean', { heapProfile: { continuous: 'yes' } }, /`heapProfile.continuous` must be a boolean/),
    invalid('heapProfile.intervalBytes below 1 KiB', { heapProfile: { intervalBytes: 1000 } }, /`heapProfile.intervalBytes` must be an integer from 1024 to 1073741824/),
    invalid('heapProfile.intervalBytes above 1 GiB', { heapProfile: { intervalBytes: 2 ** 30 + 1 } }, /`heapProfile.intervalBytes` must be an integer from 1024 to 1073741824, got 1073741825/),
    invalid('heapProfile.stackDepth above 128', { heapProfile: { stackDepth: 200 } }, /`heapProfile.stackDepth` must be an integer from 1 to 128/),
    invalid('capture not an object', { capture: 'on' }, /`capture` must be an object/),
    invalid('capture null', { capture: null }, /`capture` must be an object/),
    invalid('capture.onVerdict not a boolean', { capture: { onVerdict: 1 } }, /`capture.onVerdict` must be a boolean/),
    invalid('capture.containerShare above 1', { capture: { containerShare: 1.5 } }, /`capture.containerShare` must be a number in \(0, 1\] or null, got 1.5/),
    invalid('capture.maxSnapshots negative', { capture: { maxSnapshots: -1 } }, /`capture.maxSnapshots` must be/),
    invalid('capture.spacingMs zero', { capture: { spacingMs: 0 } }, /`capture.spacingMs` must be a positive integer/),
    invalid('capture.periodMs fractional', { capture: { periodMs: 1.5 } }, /`capture.periodMs` must be a positive integer/),
    invalid('capture.startAfterMs negative', { capture: { startAfterMs: -5 } }, /`capture.startAfterMs` must be/),
    invalid('capture.heapProfile not a boolean', { capture: { heapProfile: 'yes' } }, /`capture.heapProfile` must be a boolean/),
    invalid('trend not an object', { trend: 'fast' }, /`trend` must be an object/),
    invalid('trend null', { trend: null }, /`trend` must be an object/),
    invalid('trend.intervalMs zero', { trend: { intervalMs: 0 } }, /`trend.intervalMs` must be a positive integer/),
    invalid('trend.capacityMs fractional', { trend: { capacityMs: 1.5 } }, /`trend.capacityMs` must be a positive integer/),
    invalid('trend.capacityMs below intervalMs', { trend: { intervalMs: 10_000, capacityMs: 5000 } }, /capacityMs.*\(5000\) must be at least .*intervalMs.*\(10000\)/),
    invalid('trend.thresholds not an object', { trend: { thresholds: 'strict' } }, /`trend.thresholds` must be an object/),
    invalid('trend.thresholds null', { trend: { thresholds: null } }, /`trend.thresholds` must be an object/),
    invalid('thresholds.windowMs zero', { trend: { thresholds: { windowMs: 0 } } }, /windowMs` must be a positive finite number/),
    invalid('thresholds.minSpanMs negative', { trend: { thresholds: { minSpanMs: -1 } } }, /minSpanMs` must be a positive finite number/),
    invalid('thresholds.minSpanMs beyond windowMs', { trend: { thresholds: { windowMs: 1000, minSpanMs: 2000 } } }, /minSpanMs` \(2000\) cannot exceed `windowMs` \(1000\)/),
    invalid('thresholds.minSamples two', { trend: { thresholds: { minSamples: 2 } } }, /minSamples` must be an integer >= 3/),
    invalid('thresholds.minSamples fractional', { trend: { thresholds: { minSamples: 3.5 } } }, /minSamples` must be an integer >= 3/),
    invalid('thresholds.minSlopeBytesPerMinute zero', { trend: { thresholds: { minSlopeBytesPerMinute: 0 } } }, /minSlopeBytesPerMinute` must be a positive finite number/),
    invalid('thresholds.minRelativeGrowth NaN', { trend: { thresholds: { minRelativeGrowth: Number.NaN } } }, /minRelativeGrowth` must be a positive finite number/),
    invalid('thresholds.minConfidence at chance', { trend: { thresholds: { minConfidence: 0.5 } } }, /minConfidence` must be in \(0.5, 1\]/),
    invalid('thresholds.minConfidence above one', { trend: { thresholds: { minConfidence: 1.5 } } }, /minConfidence` must be in \(0.5, 1\]/),
    invalid('metrics without a registry', { metrics: {} }, /`metrics.registry` must be a prom-client Registry/),
    invalid('metrics.registry not a registry', { metrics: { registry: {} } }, /`metrics.registry` must be a prom-client Registry/),
    invalid('metrics null', { metrics: null }, /`metrics.registry` must be a prom-client Registry/),
    invalid('metrics.route not a boolean', { metrics: { registry, route: 'yes' } }, /`metrics.route` must be a boolean/),
    invalid('metrics.auth not a boolean', { metrics: { registry, auth: 1 } }, /`metrics.auth` must be a boolean/),
    invalid('cgroup not an object', { cgroup: '/sys/fs/cgroup' }, /`cgroup` must be an object, got "\/sys\/fs\/cgroup"/),
    invalid('cgroup.root empty', { cgroup: { root: '' } }, /`cgroup.root` must be a non-empty string/),
    invalid('cgroup.procSelfCgroup a number', { cgroup: { procSelfCgroup: 5 } }, /`cgroup.procSelfCgroup` must be a non-empty string/)
  ]

  // Registration checks that can only run after the options are resolved.
  const root = tempDir(t, 'memdiag-invalid-dirs-')
  const file = join(root, 'a-file')
  writeFileSync(file, '')
  const open = join(root, 'open')
  mkdirSync(open, { mode: 0o700 })
  chmodSync(open, 0o755)
  const unsafe = 'FST_MEMDIAG_UNSAFE_SNAPSHOT_DIR'
  cases.push(
    { name: 'snapshot.dir is a file', options: { auth, snapshot: { dir: file } }, code: unsafe, message: /cannot create the snapshot directory/ },
    { name: 'snapshot.dir open to others', options: { auth, snapshot: { dir: open } }, code: unsafe, message: /accessible to group or others/ }
  )
  // only root can give a directory to another user
  const notRoot = missingPrerequisite(t, process.getuid?.() === 0 ? false : 'not root: cannot chown a directory to uid 65534')
  if (notRoot === false) {
    const foreign = join(root, 'foreign')
    mkdirSync(foreign, { mode: 0o700 })
    chownSync(foreign, 65534, 65534)
    cases.push({ name: 'snapshot.dir owned by another user', options: { auth, snapshot: { dir: foreign } }, code: unsafe, message: /is owned by uid 65534/ })
  } else {
    t.test('snapshot.dir owned by another user', { skip: notRoot }, () => {})
  }
  const taken = new Registry()
  // eslint-disable-next-line no-new -- registered on `taken`, so the plugin's own gauge clashes
  new Gauge({ name: 'memdiag_heap_used_bytes', help: 'already here', registers: [taken] })
  // V8's one sampling heap profiler held by another session: found after everything is opened
  const other = new Session()
  other.connect()
  other.post('HeapProfiler.startSampling', { samplingInterval: 65536 })
  t.teardown(() => other.disconnect())
  cases.push({ name: 'heapProfile.continuous with the heap profiler in other hands', options: { auth, heapProfile: { continuous: true } }, code: OPTION, message: /could not start the sampling heap profiler.*another user/ })
  cases.push({ name: 'metrics.registry already holds a memdiag metric', options: { auth, metrics: { registry: taken } }, message: /memdiag_heap_used_bytes has already been registered/ })
  return cases
}

/** Where the gate throws an invalid-option error (`file:line`): every one must be reached by a case. */
function ruleSites (): Set<string> {
  return new Set(RULE_SOURCES.flatMap((file) => readFileSync(file, 'utf8').split('\n').flatMap((line, index) =>
    line.includes('throw new InvalidOptionError(') ? [`${file}:${index + 1}`] : [])))
}

/** The rule site an error was thrown from, or null when it comes from elsewhere. */
function throwSite (error: Error): string | null {
  for (const frame of (error.stack ?? '').split('\n')) {
    const match = /\((.*):(\d+):\d+\)$|at (.*):(\d+):\d+$/.exec(frame.trim())
    const file = match?.[1] ?? match?.[3]
    if (file !== undefined && RULE_SOURCES.includes(file)) return `${file}:${match?.[2] ?? match?.[4]}`
  }
  return null
}

const ATTEMPTS = 50

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object'
}

/** The case's options with the fixture cgroup and snapshot directory, unless the case breaks those. */
function withFixtures (options: unknown, fixtures: { cgroup: object, dir: string }): unknown {
  if (!isObject(options)) return options
  const { snapshot, cgroup } = options
  return {
    ...options,
    snapshot: snapshot === undefined || isObject(snapshot) ? { dir: fixtures.dir, ...snapshot } : snapshot,
    cgroup: cgroup === undefined || isObject(cgroup) ? { ...fixtures.cgroup, ...cgroup } : cgroup
  }
}

t.test('no invalid option leaves a file descriptor behind, over 50 failed registrations each', async (t) => {
  const fixtures = { cgroup: fakeCgroup(t), dir: tempDir(t) }
  const reached = new Set<string>()
  const cases = invalidCases(t)
  for (const { name, options, code, message } of cases) {
    const fdsBefore = openFds()
    let failure: Error | null = null
    let mostLeaked = 0
    let closeFailed: unknown = null
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const app = Fastify()
      app.register(memoryDiagnostics, withFixtures(options, fixtures) as never)
      failure = await app.ready().then(() => null, (error: Error) => error)
      // counted before close(): a process whose registration failed usually exits without closing
      mostLeaked = Math.max(mostLeaked, openFds() - fdsBefore)
      await app.close().catch((error: unknown) => { closeFailed = error })
    }
    if (failure === null) {
      t.fail(`${name}: registration succeeded`)
      continue
    }
    const site = throwSite(failure)
    if (site !== null) reached.add(site)
    const failureCode = (failure as { code?: string }).code
    if ((code !== undefined && failureCode !== code) || !message.test(failure.message)) {
      t.fail(`${name}: unexpected error`, { code: failureCode, message: failure.message, expected: { code, message: String(message) } })
    }
    if (mostLeaked !== 0 || openFds() !== fdsBefore) {
      t.fail(`${name}: file descriptors left open (up to ${mostLeaked} during the attempts, ${openFds() - fdsBefore} after ${ATTEMPTS})`, { error: failure.message })
    }
    if (closeFailed !== null) t.fail(`${name}: close() after the failed registration threw`, { error: String(closeFailed) })
  }
  t.pass(`${cases.length} invalid options, ${ATTEMPTS} failed registrations each`)
  const unreached = [...ruleSites()].filter((site) => !reached.has(site))
  t.same(unreached, [], 'every rule of the options gate is broken by a case (add a case for a new rule)')
})
