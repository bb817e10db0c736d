import { freemem } from 'node:os'
import { performance } from 'node:perf_hooks'
import { setImmediate as nextLoopTurn, setTimeout as sleep } from 'node:timers/promises'
import { getHeapStatistics } from 'node:v8'
import type { FastifyBaseLogger, FastifyError } from 'fastify'
import type { CgroupProbe } from '../cgroup.js'
import { InsufficientHeadroomError, SnapshotCoolingDownError, SnapshotFailedError, SnapshotInProgressError } from '../errors.js'
import { heapComposition } from './cost-model.js'
import type { HeapWriter } from './heap-writer.js'
import type { LearnedCost } from './cost-model.js'
import { checkHeadroom } from './headroom.js'
import type { HeadroomFigures, HeadroomSettings } from './headroom.js'
import { PROC_SELF, readRss } from './peak-rss.js'
import { detectAllocator, retainedMemory } from './retained.js'
import { newSnapshotId, snapshotPaths } from './names.js'
import { startRedaction } from './redact.js'
import type { StartedRedaction } from './redact.js'
import type { OpenedSnapshot, SnapshotStore } from './store.js'
import { expectedBlockMs, writeSnapshotFile } from './writer.js'
import type { ResolvedRedaction } from '../types/options.js'
import type { HeadroomVerdict, RetainedMemory, SnapshotJobState, SnapshotStatus, UploadReport, WrittenSnapshot } from '../types/reports.js'

/** What the snapshot holding the lock is doing. */
export type SnapshotPhase = 'writing' | 'sending' | 'uploading' | 'cooling-down'

/** The figures `GET /memory` has already read, so that its sections agree. */
export type StatusFigures = Pick<HeadroomFigures, 'heapUsedBytes' | 'container' | 'systemAvailableBytes'> & { rssBytes: number }

export interface TakeOptions {
  log: FastifyBaseLogger
  /** Resolves when the snapshot may block the event loop (`?wait=false`: once the 202 is flushed). */
  startWhen?: () => Promise<void>
  /** Sends the file just written (`?download=true`); resolves when the response is over, whichever way. */
  send?: (file: OpenedSnapshot) => Promise<void>
  /** Uploads the file just written (after `send`), the lock held; never throws: a failure is in the report. */
  upload?: (file: WrittenSnapshot) => Promise<UploadReport>
}

/** A recent job as `GET /heap-snapshot/:id/status` tells it. */
export interface JobRecord {
  status: SnapshotJobState
  snapshot?: WrittenSnapshot
  upload?: UploadReport
  error?: { code: string, message: string }
}

/** What `take` refuses with (a 409 or the 503), and the `Retry-After` to answer with it. */
export type SnapshotRefusal = FastifyError & { retryAfterSeconds: number }

export interface SnapshotJob {
  id: string
  /** Settles when the file is written (or failed); the lock is released later, on its own. */
  written: Promise<WrittenSnapshot>
  /** Settles when the whole job is over (written, sent, uploaded, failed), before the cool-down. */
  finished: Promise<void>
  /** The upload's report once it is over; null without `upload` or when the job failed before it. */
  uploaded: Promise<UploadReport | null>
}

export interface SnapshotLifecycle {
  /** From figures already read (those `GET /memory` reports), so that they agree. */
  status (figures: StatusFigures): SnapshotStatus
  /**
   * Checks (409 while a snapshot holds the lock, 503 without headroom) and throws a
   * `SnapshotRefusal`, or takes the lock and runs the job: wait for `startWhen`, write, `send`,
   * then release the lock after the cool-down. The lock is released by this function alone,
   * whatever happens: callers cannot forget it.
   */
  take (options: TakeOptions): SnapshotJob
  /**
   * What `take` would refuse with now (the 409 or the 503), or null: run before the route's rate
   * limit, so that a refusal spends none of the operator's snapshot credits.
   */
  refusal (): SnapshotRefusal | null
  /** What the snapshot with this id is doing, or null when it holds no lock. */
  phase (id: string): SnapshotPhase | null
  /** The error of the snapshot with this id, when it was the last to fail. */
  failure (id: string): Error | null
  /** Resolves once no snapshot holds the lock: `onClose` waits for it. */
  idle (): Promise<void>
  /**
   * Uploads a snapshot written earlier (a retry after a failed upload), holding the lock meanwhile
   * so that nothing else writes or uploads; throws the 409 when the lock is held.
   */
  uploadAgain (id: string, upload: () => Promise<UploadReport>): Promise<UploadReport>
  /** What a recent job did (the last 32), or null. */
  job (id: string): JobRecord | null
  /** Applies retention, keeping `keepId`; a failure is logged, never thrown. */
  applyRetention (log: FastifyBaseLogger, keepId?: string): void
}

export interface SnapshotLifecycleOptions {
  store: SnapshotStore
  cgroup: CgroupProbe
  settings: HeadroomSettings & { cacheLineEnds: boolean, redact?: ResolvedRedaction | false }
  /** Called synchronously right before V8 writes; an object returned goes into the 201 as `requests`. */
  beforeWrite?: (() => Record<string, unknown> | undefined) | undefined
  /** V8's `writeHeapSnapshot` unless given (see heap-writer.ts). */
  writeHeap?: HeapWriter | undefined
  /** Added to the reason when the guard refuses (the 503, `/memory`): what the user can do instead. */
  refusalHint?: string | undefined
}

// Requests that reached the kernel while a snapshot blocked the event loop are accepted, read and
// parsed only after it; released at once, the lock would be free when they ask (measured: 50
// parallel POSTs gave 49 snapshots). So it is held after the write for a tenth of the block
// (more requests pile up behind a longer block), at least 250 ms, at most 5 s, measured from the
// end of the write: the backlog drains within a few loop turns of that end.
const COOL_DOWN_SHARE = 0.1
const MIN_COOL_DOWN_MS = 250
const MAX_COOL_DOWN_MS = 5000
// Memory does not free itself on a schedule; a minute lets a GC or a traffic dip happen first.
const HEADROOM_RETRY_AFTER_SECONDS = 60
// How long a snapshot being written or sent still takes is not known.
const IN_PROGRESS_RETRY_AFTER_SECONDS = 1
// Jobs whose status can still be asked for: far more than `maxFiles` ever keeps.
const MAX_JOBS_KEPT = 32

/** How long the lock is held after a write that blocked the event loop for `blockMs`. */
export function coolDownMs (blockMs: number): number {
  return Math.min(MAX_COOL_DOWN_MS, Math.max(MIN_COOL_DOWN_MS, COOL_DOWN_SHARE * blockMs))
}

/** Whole seconds, rounded up: a client that waits them finds the cool-down over. */
export function retryAfterSeconds (leftMs: number): number {
  return Math.max(1, Math.ceil(leftMs / 1000))
}

/** Whether `take` threw this (rather than the job failing). */
export function isSnapshotRefusal (error: unknown): error is SnapshotRefusal {
  return error instanceof SnapshotInProgressError || error instanceof SnapshotCoolingDownError || error instanceof InsufficientHeadroomError
}

function refusedWith<E extends FastifyError> (error: E, retryAfter: number): E & SnapshotRefusal {
  return Object.assign(error, { retryAfterSeconds: retryAfter })
}

interface State {
  /** The snapshot holding the lock; `coolDownEndsAt` (on `performance.now()`'s clock) once it cools down. */
  current: { id: string, phase: SnapshotPhase, coolDownEndsAt: number | null } | null
  last: WrittenSnapshot | null
  /** What the last snapshot needed, as the guard learns it (null when it could not be measured). */
  learned: LearnedCost | null
  lastFailure: { id: string, error: Error } | null
  waiting: Array<() => void>
  /** The recent jobs, oldest first. */
  jobs: Map<string, JobRecord>
}

export function createSnapshotLifecycle ({ store, cgroup, settings, beforeWrite, writeHeap, refusalHint }: SnapshotLifecycleOptions): SnapshotLifecycle {
  const state: State = { current: null, last: null, learned: null, lastFailure: null, waiting: [], jobs: new Map() }

  function record (id: string, update: JobRecord): void {
    state.jobs.delete(id)
    state.jobs.set(id, update)
    for (const old of state.jobs.keys()) {
      if (state.jobs.size <= MAX_JOBS_KEPT) break
      state.jobs.delete(old)
    }
  }

  function setPhase (id: string, phase: SnapshotPhase): void {
    if (state.current?.id === id) state.current.phase = phase
  }
  const allocator = detectAllocator()

  function verdict (figures: StatusFigures): HeadroomVerdict & { retained: RetainedMemory } {
    const retained = retainedMemory(allocator, figures.rssBytes, state.last)
    const headroom = checkHeadroom({ ...figures, heap: heapComposition(), learned: state.learned, reusableBytes: retained.reusableBytes }, settings)
    const reason = headroom.allowed || refusalHint === undefined ? headroom.reason : `${headroom.reason}; ${refusalHint}`
    return { ...headroom, reason, retained }
  }

  function coolDownLeftMs (): number | null {
    const endsAt = state.current?.coolDownEndsAt ?? null
    return endsAt === null ? null : Math.max(0, Math.ceil(endsAt - performance.now()))
  }

  function refusal (): SnapshotRefusal | null {
    const { current } = state
    const leftMs = coolDownLeftMs()
    if (leftMs !== null) {
      return refusedWith(Object.assign(new SnapshotCoolingDownError(leftMs), { figures: { coolDownLeftMs: leftMs } }), retryAfterSeconds(leftMs))
    }
    if (current !== null) return refusedWith(new SnapshotInProgressError(), IN_PROGRESS_RETRY_AFTER_SECONDS)
    const { retained: _retained, ...headroom } = verdict({
      heapUsedBytes: getHeapStatistics().used_heap_size,
      container: cgroup.read(),
      systemAvailableBytes: freemem(),
      rssBytes: readRss()?.rssBytes ?? process.memoryUsage.rss()
    })
    if (headroom.allowed) return null
    const { reason, allowed: _allowed, ...figures } = headroom
    return refusedWith(Object.assign(new InsufficientHeadroomError(reason), { figures }), HEADROOM_RETRY_AFTER_SECONDS)
  }

  function release (id: string): void {
    if (state.current?.id !== id) return
    state.current = null
    for (const resolve of state.waiting.splice(0)) resolve()
  }

  function applyRetention (log: FastifyBaseLogger, keepId?: string): void {
    try {
      const removed = store.applyRetention({ keepId })
      if (removed.length > 0) log.info({ removed }, 'fastify-memory-diagnostics: heap snapshot retention removed files')
    } catch (error) {
      log.warn({ err: error }, 'fastify-memory-diagnostics: heap snapshot retention failed')
    }
  }

  function failed (id: string, error: Error, log: FastifyBaseLogger): Error {
    state.lastFailure = { id, error }
    log.error({ snapshotId: id, err: error }, 'fastify-memory-diagnostics: heap snapshot failed')
    return error
  }

  /** `snapshot.redact`'s worker, started before the event loop blocks (see redact.ts). */
  async function startRedactionOf (id: string, redact: ResolvedRedaction, log: FastifyBaseLogger): Promise<StartedRedaction> {
    const { raw, temp } = snapshotPaths(store.dir, id)
    try {
      return await startRedaction({ raw, out: temp, redaction: redact })
    } catch (error) {
      throw failed(id, new SnapshotFailedError((error as Error).message), log)
    }
  }

  function write (id: string, createdAt: Date, log: FastifyBaseLogger, redaction: StartedRedaction | null): WrittenSnapshot {
    try {
      const leftByLast = retainedMemory(allocator, readRss()?.rssBytes ?? null, state.last).retainedBytes
      const written = writeSnapshotFile(store.dir, id, { cacheLineEnds: settings.cacheLineEnds, proc: PROC_SELF, createdAt, beforeWrite, writeHeap, redaction })
      state.last = written
      // What it needed had nothing been left to reuse: what it added, plus all the last snapshot
      // left in the process (it may have reused every byte of it). Learning what it added alone
      // would underestimate the next one once the allocator has given that memory back.
      state.learned = written.extraRssBytes === null || written.peakRssIsUpperBound
        ? null
        : { extraRssBytes: written.extraRssBytes + leftByLast, largeObjectBytes: written.largeObjectBytes, otherHeapBytes: written.otherHeapBytes }
      return written
    } catch (error) {
      throw failed(id, error as Error, log)
    }
  }

  async function run (id: string, createdAt: Date, { log, startWhen, send, upload }: TakeOptions, written: (value: WrittenSnapshot) => void,
    uploaded: (report: UploadReport) => void): Promise<void> {
    if (startWhen !== undefined) await startWhen()
    const heapUsedBytes = getHeapStatistics().used_heap_size
    log.info({ snapshotId: id, heapUsedBytes, expectedBlockMs: expectedBlockMs(heapUsedBytes) },
      'fastify-memory-diagnostics: heap snapshot starting; the event loop is blocked until it is written')
    await flushLog(log)
    // One turn of the event loop before it blocks: requests already received (a second POST, a
    // poll) get their quick answer instead of waiting behind the snapshot, and a log write in
    // flight usually completes, so that the line above goes out. Best effort: pino's default
    // destination writes asynchronously and says nothing of when; a synchronous one makes it certain.
    await nextLoopTurn()
    // no await when redaction is off: the write follows the loop turn above at once
    const started = settings.redact === undefined || settings.redact === false ? null : await startRedactionOf(id, settings.redact, log)
    const file = write(id, createdAt, log, started)
    const { bytes, durationMs, peakRssBytes, extraRssBytes, costFactor, peakRssIsUpperBound, redaction } = file
    log.info({ snapshotId: id, bytes, durationMs, heapUsedBytes: file.heapUsedBytes, peakRssBytes, extraRssBytes, costFactor, peakRssIsUpperBound, redaction },
      'fastify-memory-diagnostics: heap snapshot written')
    applyRetention(log, id)
    written(file)
    if (send !== undefined) {
      setPhase(id, 'sending')
      record(id, { status: 'sending', snapshot: file })
      const opened = await store.open(id, { ignoreAge: true })
      /* c8 ignore next -- only when something outside the plugin removed the file just written */
      if (opened === null) throw new SnapshotFailedError('the snapshot file was removed before it could be sent')
      await send(opened)
    }
    if (upload !== undefined) {
      setPhase(id, 'uploading')
      record(id, { status: 'uploading', snapshot: file })
      const report = await upload(file)
      record(id, { status: 'done', snapshot: file, upload: report })
      uploaded(report)
      return
    }
    record(id, { status: 'done', snapshot: file })
  }

  async function coolDown (id: string, writeEndedAt: number, blockMs: number): Promise<void> {
    const endsAt = writeEndedAt + coolDownMs(blockMs)
    if (state.current !== null) Object.assign(state.current, { phase: 'cooling-down', coolDownEndsAt: endsAt })
    await nextLoopTurn()
    // measured after the loop turn, so that the lock is free when the refusals said it would be;
    // ref'd: at most 5 s, and app.close() waits for the lock to be free
    const left = endsAt - performance.now()
    if (left > 0) await sleep(left)
    release(id)
  }

  return {
    status (figures) {
      const current = verdict(figures)
      const inProgress = state.current !== null
      const leftMs = coolDownLeftMs()
      const lock = leftMs === null ? `a heap snapshot is ${state.current?.phase}` : `cooling down after the last heap snapshot, ${leftMs} ms left`
      return {
        ...current,
        allowed: current.allowed && !inProgress,
        reason: inProgress ? `${lock}; ${current.reason}` : current.reason,
        inProgress,
        last: state.last
      }
    },

    refusal,

    take (options) {
      const refused = refusal()
      if (refused !== null) throw refused
      const createdAt = new Date()
      const id = newSnapshotId(createdAt)
      state.current = { id, phase: 'writing', coolDownEndsAt: null }
      record(id, { status: 'writing' })
      let markUploaded: (report: UploadReport | null) => void = () => {}
      const uploaded = new Promise<UploadReport | null>((resolve) => { markUploaded = resolve })
      let markWritten: (value: WrittenSnapshot) => void = () => {}
      let writeEndedAt: number | null = null
      let blockMs = 0
      const written = new Promise<WrittenSnapshot>((resolve) => {
        markWritten = (value) => {
          writeEndedAt = performance.now()
          blockMs = value.durationMs
          resolve(value)
        }
      })
      let failWritten: (error: Error) => void = () => {}
      const writtenOrFailed = Promise.race([written, new Promise<never>((_resolve, reject) => { failWritten = reject })])
      const finished = run(id, createdAt, options, markWritten, markUploaded).catch((error: Error) => {
        // a failure before the file was written is the job's answer; after it, the sender's
        // own business (it logs and ends its response)
        const snapshot = state.jobs.get(id)?.snapshot
        record(id, { status: 'failed', ...(snapshot === undefined ? {} : { snapshot }), error: { code: (error as FastifyError).code ?? error.name, message: error.message } })
        if (writeEndedAt === null) writeEndedAt = performance.now()
        failWritten(error)
        markUploaded(null)
        throw error
      })
      finished.then(() => {}, () => {}).then(() => coolDown(id, writeEndedAt ?? performance.now(), blockMs)).catch(() => {})
      writtenOrFailed.catch(() => {})
      finished.catch(() => {})
      if (options.upload === undefined) markUploaded(null)
      return { id, written: writtenOrFailed, finished, uploaded }
    },

    async uploadAgain (id, upload) {
      if (state.current !== null) throw refusedWith(new SnapshotInProgressError(), IN_PROGRESS_RETRY_AFTER_SECONDS)
      state.current = { id, phase: 'uploading', coolDownEndsAt: null }
      const before = state.jobs.get(id)
      record(id, { ...before, status: 'uploading' })
      try {
        const report = await upload()
        record(id, { ...before, status: 'done', upload: report })
        return report
      } finally {
        release(id)
      }
    },

    job: (id) => state.jobs.get(id) ?? null,

    phase: (id) => state.current?.id === id ? state.current.phase : null,
    failure: (id) => state.lastFailure?.id === id ? state.lastFailure.error : null,
    idle: () => state.current === null ? Promise.resolve() : new Promise((resolve) => { state.waiting.push(resolve) }),
    applyRetention
  }
}

/**
 * Asks the logger to write out what it buffers (pino with a `minLength` destination holds lines
 * back): a line still queued when the event loop blocks would only appear after the snapshot, or
 * never if the process is killed during it (the OOM killer logs nothing either). Loggers without
 * `flush`: at once.
 */
export function flushLog (log: FastifyBaseLogger): Promise<void> {
  const { flush } = log as { flush?: (callback: (error?: Error) => void) => void }
  if (typeof flush !== 'function') return Promise.resolve()
  return new Promise((resolve) => { flush.call(log, () => resolve()) })
}
