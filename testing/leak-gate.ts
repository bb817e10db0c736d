import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as nextTask } from 'node:timers/promises'
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { findLeaks } from '../analysis/find-leaks.js'
import type { LeakCandidate } from '../analysis/find-leaks.js'
import { formatLeakReport } from '../analysis/format-leaks.js'
import { inspectorAvailable, postInspector } from '../plugin/inspector-session.js'
import { integerProblem } from '../plugin/integer-check.js'
import { cacheScriptLineEnds } from '../plugin/snapshot-line-ends.js'
import type { GateFinding, LeakGateOptions, LeakGateResult, LeakGateTarget } from './types.js'

const DEFAULT_CALLS = 200
const DEFAULT_THRESHOLD = 0.05
const SNAPSHOTS = 3
// Enough for a small leak not to hide behind bigger ones of the rest of the process.
const CANDIDATES = 25

/** Thrown by `assertNoLeaks` when something grows per call above the threshold; carries the whole result. */
export class LeakGateError extends Error {
  readonly code = 'FST_MEMDIAG_LEAK_GATE'
  readonly result: LeakGateResult

  constructor (result: LeakGateResult) {
    super(failureMessage(result))
    this.name = 'LeakGateError'
    this.result = result
  }
}

/**
 * Fails (throws a `LeakGateError` with the report) when calling `target` keeps objects alive
 * per call above `options.threshold`; returns the measure otherwise. See `measureLeaks`.
 */
export async function assertNoLeaks (target: LeakGateTarget, options: LeakGateOptions = {}): Promise<LeakGateResult> {
  const result = await measureLeaks(target, options)
  if (result.leaks.length > 0) throw new LeakGateError(result)
  return result
}

/**
 * Calls `target` `warmUp` times, then takes three heap snapshots of this process with `calls`
 * calls between them (a full GC and a turn of the event loop before each, so that settled
 * promises and finalizers are gone), and runs find-leaks on them: what each call leaves alive
 * in both intervals, per call. Calls are sequential; a rejected call rejects the measure.
 */
export async function measureLeaks (target: LeakGateTarget, options: LeakGateOptions = {}): Promise<LeakGateResult> {
  const started = performance.now()
  const call = caller(target)
  const settings = resolve(target, options)
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'memdiag-gate-'))
  const files: string[] = []
  for (let i = 0; i < settings.warmUp; i++) await call()
  for (let s = 0; s < SNAPSHOTS; s++) {
    if (s > 0) for (let i = 0; i < settings.calls; i++) await call()
    files.push(await snapshot(join(dir, `gate-${process.pid}-${Date.now()}-${s + 1}.heapsnapshot`)))
  }
  const report = await findLeaks(files, { top: CANDIDATES })
  const findings = report.candidates.map((candidate) => finding(candidate, settings.calls))
    .sort((a, b) => b.objectsPerCall - a.objectsPerCall)
  const leaks = findings.filter((f) => f.objectsPerCall > settings.threshold)
  const keep = options.dir !== undefined || leaks.length > 0
  if (!keep) rmSync(dir, { recursive: true, force: true })
  return {
    ...settings,
    leaks,
    findings,
    report,
    files: keep ? files : [],
    durationMs: performance.now() - started
  }
}

function resolve (target: LeakGateTarget, options: LeakGateOptions): { label: string, calls: number, warmUp: number, threshold: number } {
  const calls = options.calls ?? DEFAULT_CALLS
  const warmUp = options.warmUp ?? calls
  const threshold = options.threshold ?? DEFAULT_THRESHOLD
  const problem = integerProblem(calls, { min: 1, name: '`calls`' }) ?? integerProblem(warmUp, { min: 0, name: '`warmUp`' })
  if (problem !== null) throw new TypeError(problem)
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) {
    throw new TypeError(`\`threshold\` must be a number of objects per call >= 0, got ${String(threshold)}`)
  }
  return { label: options.label ?? labelOf(target), calls, warmUp, threshold }
}

function caller (target: LeakGateTarget): () => Promise<unknown> {
  if ('call' in target && typeof target.call === 'function') return async () => await target.call()
  if ('app' in target && typeof target.app?.inject === 'function') {
    const { app, request } = target
    return async () => await app.inject(request as never)
  }
  if ('url' in target && (typeof target.url === 'string' || target.url instanceof URL)) {
    const { url, init } = target
    // the body is read to its end: an unread one keeps the socket, and its buffers, busy
    return async () => await (await fetch(url, init)).arrayBuffer()
  }
  throw new TypeError('the target must be { call: function }, { app, request } (Fastify inject) or { url, init? } (fetch)')
}

function labelOf (target: LeakGateTarget): string {
  if ('call' in target) return target.call.name === '' ? 'the function' : `${target.call.name}()`
  if ('app' in target) {
    const request = target.request as { method?: string, url?: string, path?: string }
    if (typeof request === 'string') return `GET ${request}`
    return `${(request.method ?? 'GET').toUpperCase()} ${request.url ?? request.path ?? '/'}`
  }
  return `${(target.init?.method ?? 'GET').toUpperCase()} ${new URL(target.url).pathname}`
}

async function snapshot (file: string): Promise<string> {
  forgetConsoleMessages()
  // twice: a promise settled or a finalizer run after the first collection frees more on the second
  for (let i = 0; i < 2; i++) {
    await nextTask()
    collectGarbage()
  }
  cacheScriptLineEnds(true)
  return writeHeapSnapshot(file)
}

// While an inspector session is connected (ours above, `--inspect`, a debugger) V8 keeps the
// arguments of the last 1,000 console calls for DevTools: measured, every `console.log` string of
// the intervals alive in the last snapshot, held by "(Global handles) / DevTools console".
function forgetConsoleMessages (): void {
  if (!inspectorAvailable()) return
  postInspector('Runtime.discardConsoleEntries')
}

let gc: (() => void) | undefined

// `--expose-gc` when the test runner was started with it, else the same function taken from a
// fresh context while the flag is briefly on (V8 installs `gc` in contexts created then).
function collectGarbage (): void {
  if (gc === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc
    if (typeof exposed === 'function') {
      gc = exposed
    } else {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
      setFlagsFromString('--no-expose-gc')
    }
  }
  gc()
}

function finding (candidate: LeakCandidate, calls: number): GateFinding {
  return {
    className: candidate.className,
    objectClass: candidate.objectClass,
    heldBy: `${candidate.collection.kind}${candidate.collection.label === '' ? '' : ` ${candidate.collection.label}`}`,
    objectsPerCall: Math.min(...candidate.countPerInterval) / calls,
    countPerInterval: candidate.countPerInterval,
    retainedBytes: candidate.retainedBytes,
    pathShape: candidate.pathShape,
    candidate
  }
}

function failureMessage (result: LeakGateResult): string {
  const lines = [
    `${result.label} leaks: ${result.leaks.length} ${result.leaks.length === 1 ? 'class grows' : 'classes grow'} by more than ${result.threshold} objects per call ` +
      `(${result.calls} calls between 3 heap snapshots, after ${result.warmUp} warm-up calls)`,
    ...result.leaks.map((f) => `- ${f.className}${f.objectClass === f.className ? '' : ` (${f.objectClass})`}: ${round(f.objectsPerCall)} per call, ` +
      `+${f.countPerInterval.join('/+')} per interval, held by ${f.heldBy}`),
    `Snapshots kept: ${result.files.join(' ')}`,
    '',
    formatLeakReport(result.report)
  ]
  return lines.join('\n')
}

function round (n: number): string {
  return n >= 10 ? n.toFixed(0) : n.toFixed(2)
}
