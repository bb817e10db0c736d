import { freemem } from 'node:os'
import { setImmediate as nextLoopTurn } from 'node:timers/promises'
import { getHeapStatistics } from 'node:v8'
import type { FastifyBaseLogger } from 'fastify'
import type { CgroupProbe } from './cgroup.js'
import { InsufficientHeadroomError, SnapshotInProgressError } from './errors.js'
import { checkHeadroom } from './headroom.js'
import type { HeadroomFigures, HeadroomSettings, HeadroomVerdict } from './headroom.js'
import { createSnapshotLock } from './snapshot-lock.js'
import { PROC_SELF } from './snapshot-peak-rss.js'
import { newSnapshotId } from './snapshot-store.js'
import type { SnapshotStore } from './snapshot-store.js'
import { expectedBlockMs, writeSnapshotFile } from './snapshot-writer.js'
import type { WrittenSnapshot } from './snapshot-writer.js'

/** The `snapshot` section of `GET /memory`: would one be allowed now, why, and what the last one cost. */
export interface SnapshotStatus extends HeadroomVerdict {
  inProgress: boolean
  last: TakenSnapshot | null
}

/** A snapshot written, with what `beforeWrite` returned (the request counts) as `requests`. */
export type TakenSnapshot = WrittenSnapshot & { requests?: Record<string, unknown> }

export interface SnapshotTaker {
  /** From figures already read (those `GET /memory` reports), so that they agree. */
  status (figures: HeadroomFigures): SnapshotStatus
  /** Takes the lock for a new snapshot after the checks: 409 while one runs, 503 without headroom. */
  begin (): string
  /**
   * Writes the snapshot `begin` returned the id of, records its cost, applies retention. It is
   * logged and the log flushed first: the event loop is about to be blocked, and the process may
   * not survive it.
   */
  write (id: string, log: FastifyBaseLogger): Promise<TakenSnapshot>
  release (id: string): void
  /** Resolves once no snapshot is being taken or sent: `onClose` waits for it. */
  idle (): Promise<void>
  /** Begun and not yet written (or failed). */
  isBeingWritten (id: string): boolean
  /** Holding the lock: being written, or being sent in the response that took it. */
  isBusy (id: string): boolean
  /** The error of the snapshot with this id, when it was the last to fail. */
  failure (id: string): Error | null
  /** Applies retention, keeping `keepId`; a failure is logged, never thrown. */
  applyRetention (log: FastifyBaseLogger, keepId?: string): void
}

export interface SnapshotTakerOptions {
  store: SnapshotStore
  cgroup: CgroupProbe
  settings: HeadroomSettings & { cacheLineEnds: boolean }
  /** Called right before the V8 write (the request counts' marks); its result is `requests` in the `201`. */
  beforeWrite?: () => Record<string, unknown> | undefined
}

export function createSnapshotTaker ({ store, cgroup, settings, beforeWrite }: SnapshotTakerOptions): SnapshotTaker {
  const lock = createSnapshotLock()
  let writing: string | null = null
  let last: TakenSnapshot | null = null
  let lastFailure: { id: string, error: Error } | null = null

  function headroom (): HeadroomVerdict {
    return checkHeadroom({
      heapUsedBytes: getHeapStatistics().used_heap_size,
      container: cgroup.read(),
      systemAvailableBytes: freemem()
    }, settings)
  }

  function applyRetention (log: FastifyBaseLogger, keepId?: string): void {
    try {
      const removed = store.applyRetention({ keepId })
      if (removed.length > 0) log.info({ removed }, 'fastify-memory-diagnostics: heap snapshot retention removed files')
    } catch (error) {
      log.warn({ err: error }, 'fastify-memory-diagnostics: heap snapshot retention failed')
    }
  }

  return {
    status (figures) {
      const verdict = checkHeadroom(figures, settings)
      const inProgress = lock.holder !== null
      return {
        ...verdict,
        allowed: verdict.allowed && !inProgress,
        reason: inProgress ? `a heap snapshot is in progress; ${verdict.reason}` : verdict.reason,
        inProgress,
        last
      }
    },
    begin () {
      if (lock.holder !== null) throw new SnapshotInProgressError()
      const verdict = headroom()
      if (!verdict.allowed) {
        const { heapUsedBytes, estimatedBytes, availableBytes, source } = verdict
        throw Object.assign(new InsufficientHeadroomError(verdict.reason), {
          figures: { heapUsedBytes, estimatedBytes, availableBytes, source }
        })
      }
      const id = newSnapshotId()
      lock.acquire(id)
      writing = id
      return id
    },
    async write (id, log) {
      const heapUsedBytes = getHeapStatistics().used_heap_size
      log.info({ snapshotId: id, heapUsedBytes, expectedBlockMs: expectedBlockMs(heapUsedBytes) },
        'fastify-memory-diagnostics: heap snapshot starting; the event loop is blocked until it is written')
      await flushLog(log)
      // One turn of the event loop before it blocks: requests already received (a second POST, a
      // poll) get their quick answer instead of waiting behind the snapshot, and a log write in
      // flight usually completes, so that the line above goes out. Best effort: pino's default
      // destination writes asynchronously and says nothing of when (measured: one turn is
      // sometimes not enough); a synchronous destination makes the line certain.
      await nextLoopTurn()
      let written: WrittenSnapshot
      let requests: Record<string, unknown> | undefined
      try {
        requests = beforeWrite?.()
        written = writeSnapshotFile(store, id, { cacheLineEnds: settings.cacheLineEnds, proc: PROC_SELF })
      } catch (error) {
        lastFailure = { id, error: error as Error }
        log.error({ snapshotId: id, err: error }, 'fastify-memory-diagnostics: heap snapshot failed')
        throw error
      } finally {
        writing = null
      }
      last = requests === undefined ? written : { ...written, requests }
      const { bytes, durationMs, peakRssBytes, extraRssBytes, costFactor, peakRssIsUpperBound } = written
      log.info({ snapshotId: id, bytes, durationMs, heapUsedBytes: written.heapUsedBytes, peakRssBytes, extraRssBytes, costFactor, peakRssIsUpperBound },
        'fastify-memory-diagnostics: heap snapshot written')
      applyRetention(log, id)
      return last
    },
    release: (id) => lock.release(id),
    idle: () => lock.whenFree(),
    isBeingWritten: (id) => writing === id,
    isBusy: (id) => lock.holder === id,
    failure: (id) => lastFailure !== null && lastFailure.id === id ? lastFailure.error : null,
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
