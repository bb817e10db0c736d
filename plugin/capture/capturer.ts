import { readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import type { SnapshotLifecycle } from '../snapshot/lifecycle.js'
import { isSnapshotRefusal } from '../snapshot/lifecycle.js'
import { newSnapshotId } from '../snapshot/names.js'
import type { ResolvedCapture } from '../types/options.js'
import type { UploadReport, WrittenSnapshot } from '../types/reports.js'
import type { TrendReport } from '../types/trend.js'
import { decideCapture } from './policy.js'
import type { CaptureDecision, CaptureObservation, CaptureRecord, SnapshotBudget } from './policy.js'
import { readCaptureRecords, writeCaptureRecords } from './records.js'

/** A file the capture wrote, for whatever takes evidence out of the container. */
export interface CapturedFile {
  readonly path: string
  readonly record: CaptureRecord
}

/**
 * Where captured files go once written, when object storage is configured (issue 21's sink is
 * wired here by the plugin); `null`: they stay in the snapshot directory only.
 */
export type CaptureSink = ((file: CapturedFile) => Promise<void>) | null

export interface CapturerOptions {
  readonly settings: ResolvedCapture
  readonly budget: SnapshotBudget | null
  readonly dir: string
  readonly snapshots: SnapshotLifecycle
  /** Starts sampling if needed; true when it was already running (so a profile read now has data). */
  readonly ensureSampling: () => boolean
  /** The profile document to write, as GET /heap-profile answers it. */
  readonly readProfile: () => object
  readonly readContainer: () => { usageBytes: number | null, limitBytes: number | null }
  readonly log: FastifyBaseLogger
  /** Uploads a captured heap profile (with the `upload` option). */
  readonly sink: CaptureSink
  /** Uploads a captured snapshot within its job (with the `upload` option). */
  readonly uploadSnapshot?: ((file: WrittenSnapshot) => Promise<UploadReport>) | null
  /** Retention of the profile files: as the snapshots'. */
  readonly maxFiles: number
  readonly maxAgeMs: number
  /** Clocks, for tests: epoch ms, and the process's uptime in ms. */
  readonly now?: () => number
  readonly uptimeMs?: () => number
}

export interface Capturer {
  /** Called after every trend assessment: captures when the policy says so, never twice at once. */
  observe (report: TrendReport): void
  /** The captures of the period, this process's and those before a restart. */
  records (): readonly CaptureRecord[]
  /** Resolves when no capture is in flight. */
  idle (): Promise<void>
  stop (): void
}

const PROFILE_FILE = /^capture-[0-9TZ.]+-[0-9a-f]{16}\.heapprofile$/

export function createCapturer (options: CapturerOptions): Capturer {
  const { settings, budget, dir, snapshots, log } = options
  const now = options.now ?? Date.now
  const uptimeMs = options.uptimeMs ?? (() => process.uptime() * 1000)
  const read = readCaptureRecords(dir, now(), settings.periodMs)
  if (read.problem !== null) log.warn(`fastify-memory-diagnostics: capture records unreadable, counting from none: ${read.problem}`)
  let records = read.records
  let inFlight: Promise<void> | null = null
  // after a refusal by the guard: no new attempt before this (epoch ms)
  let retryAt = -Infinity
  let stopped = false

  function remember (record: CaptureRecord): void {
    records = [...records.filter((r) => now() - r.at < settings.periodMs), record]
    writeCaptureRecords(dir, records)
  }

  function send (file: CapturedFile): void {
    if (options.sink === null) return
    options.sink(file).catch((error: unknown) => {
      log.warn({ err: error, capture: file.record }, 'fastify-memory-diagnostics: a captured file could not be sent to object storage')
    })
  }

  function captureProfile (decision: CaptureDecision): void {
    let hadData: boolean
    try {
      hadData = options.ensureSampling()
    } catch (error) {
      // another user holds the profiler (409): the snapshot may still be taken
      log.warn({ err: error, capture: { trigger: decision.trigger } }, 'fastify-memory-diagnostics: capture could not use the sampling heap profiler')
      return
    }
    if (!hadData) {
      log.info({ capture: { trigger: decision.trigger } }, `fastify-memory-diagnostics: capture started the sampling heap profiler because ${decision.reason}`)
      return
    }
    const id = `capture-${newSnapshotId(new Date(now()))}.heapprofile`
    const path = join(dir, id)
    writeFileSync(path, JSON.stringify(options.readProfile()), { mode: 0o600 })
    const record: CaptureRecord = { kind: 'heap-profile', at: now(), pid: process.pid, trigger: decision.trigger, reason: decision.reason, id }
    remember(record)
    log.info({ capture: record }, `fastify-memory-diagnostics: captured a heap profile because ${decision.reason}`)
    applyProfileRetention()
    send({ path, record })
  }

  async function captureSnapshot (decision: CaptureDecision): Promise<void> {
    let job
    try {
      job = snapshots.take(options.uploadSnapshot == null ? { log } : { log, upload: options.uploadSnapshot })
    } catch (error) {
      if (!isSnapshotRefusal(error)) throw error
      retryAt = now() + error.retryAfterSeconds * 1000
      log.info({ capture: { trigger: decision.trigger }, refusal: error.message },
        `fastify-memory-diagnostics: capture skipped a heap snapshot (${error.message}); it tries again in ${error.retryAfterSeconds} s at the earliest`)
      return
    }
    const written = await job.written
    const record: CaptureRecord = { kind: 'heap-snapshot', at: now(), pid: process.pid, trigger: decision.trigger, reason: decision.reason, id: job.id }
    remember(record)
    log.info({ capture: record, bytes: written.bytes }, `fastify-memory-diagnostics: captured a heap snapshot because ${decision.reason}`)
    const uploaded = await job.uploaded
    if (uploaded !== null && 'error' in uploaded) {
      log.warn({ capture: record, upload: uploaded }, 'fastify-memory-diagnostics: a captured heap snapshot could not be sent to object storage; the local file is kept')
    } else if (uploaded !== null) {
      log.info({ capture: record, upload: uploaded }, 'fastify-memory-diagnostics: captured heap snapshot uploaded')
    }
  }

  async function capture (decision: CaptureDecision): Promise<void> {
    if (decision.profile) captureProfile(decision)
    if (decision.snapshot) await captureSnapshot(decision)
  }

  function applyProfileRetention (): void {
    try {
      const files = readdirSync(dir).filter((name) => PROFILE_FILE.test(name)).sort().reverse()
      for (const [index, name] of files.entries()) {
        const path = join(dir, name)
        if (index >= options.maxFiles || now() - statSync(path).mtimeMs > options.maxAgeMs) unlinkSync(path)
      }
    } catch (error) {
      log.warn({ err: error }, 'fastify-memory-diagnostics: capture profile retention failed')
    }
  }

  return {
    observe (report) {
      if (stopped || inFlight !== null) return
      const observation: CaptureObservation = {
        now: now(),
        uptimeMs: uptimeMs(),
        verdict: report.verdict,
        verdictReason: report.reason,
        container: options.readContainer()
      }
      const decision = decideCapture(observation, records, settings, budget)
      if (decision === null) return
      const wanted = decision.snapshot && observation.now >= retryAt ? decision : { ...decision, snapshot: false }
      if (!wanted.snapshot && !wanted.profile) return
      inFlight = capture(wanted)
        .catch((error: unknown) => { log.error({ err: error }, 'fastify-memory-diagnostics: capture failed') })
        .finally(() => { inFlight = null })
    },
    records: () => records,
    idle: async () => { await inFlight },
    stop () {
      stopped = true
    }
  }
}
