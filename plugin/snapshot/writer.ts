import { chmodSync, closeSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { SnapshotFailedError } from '../errors.js'
import { round } from '../memory-probe.js'
import { cacheScriptLineEnds } from '../snapshot-line-ends.js'
import { measurePeakRss } from './peak-rss.js'
import type { ProcFiles } from './peak-rss.js'
import { heapComposition } from './cost-model.js'
import { v8HeapWriter } from './heap-writer.js'
import type { HeapWriter } from './heap-writer.js'
import { snapshotPaths } from './names.js'
import type { StartedRedaction } from './redact.js'
import { checkSnapshotDir } from './store.js'
import type { RedactionReport, WrittenSnapshot } from '../types/reports.js'

// Measured on Node 20: the event loop is blocked about this long per MB of heapUsed.
const BLOCK_MS_PER_MB = 70

export function expectedBlockMs (heapUsedBytes: number): number {
  return Math.round(heapUsedBytes / 1e6 * BLOCK_MS_PER_MB)
}

/**
 * Writes a heap snapshot of this process with `v8.writeHeapSnapshot`, the cheapest path measured
 * (`v8.getHeapSnapshot()` builds the whole JSON in memory before its stream yields a byte).
 * Synchronous: the event loop is blocked throughout, about 70 ms per MB of heapUsed.
 *
 * The file is written under a temporary name and renamed when complete, so a crash or an OOM
 * kill never leaves a file that looks whole; on failure the temporary file is removed.
 */
export interface WriteOptions {
  /** See `snapshot.cacheLineEnds`. */
  cacheLineEnds: boolean
  /** Where this process's figures are read (`PROC_SELF`). */
  proc: ProcFiles
  createdAt: Date
  /** Called synchronously right before V8 writes the snapshot; an object returned is kept as `requests`. */
  beforeWrite?: (() => Record<string, unknown> | undefined) | undefined
  /** V8's `writeHeapSnapshot` unless given. */
  writeHeap?: HeapWriter | undefined
  /** `snapshot.redact`, started (see redact.ts): the file written is the redacted one. */
  redaction?: StartedRedaction | null
}

/** Writes snapshot `id` into `dir` (created and checked at registration, checked again here). */
export function writeSnapshotFile (dir: string, id: string, { cacheLineEnds, proc, createdAt, beforeWrite, writeHeap = v8HeapWriter, redaction = null }: WriteOptions): WrittenSnapshot {
  const { temp: tempPath, file: filePath } = snapshotPaths(dir, id)
  const started = performance.now()
  cacheScriptLineEnds(cacheLineEnds)
  const heapUsedBytes = process.memoryUsage().heapUsed
  const heap = heapComposition()
  const peak = measurePeakRss(proc)
  let bytes: number
  let requests: Record<string, unknown> | undefined
  let redacted: RedactionReport | undefined
  try {
    checkSnapshotDir(dir)
    // Created here first, exclusively and chmod'ed (whatever the umask), so the snapshot is
    // never readable by others even for an instant and nothing planted at that name is followed.
    closeSync(openSync(tempPath, 'wx', 0o600))
    chmodSync(tempPath, 0o600)
    const counts = beforeWrite?.()
    if (counts !== null && typeof counts === 'object') requests = counts
    if (redaction === null) writeHeap(tempPath)
    else redacted = redaction.write({ writeHeap, closeLeftovers: (path) => { closeDescriptorsOf(path, proc) } })
    bytes = statSync(tempPath).size
    renameSync(tempPath, filePath)
  } catch (error) {
    redaction?.abort()
    closeDescriptorsOf(tempPath, proc)
    rmSync(tempPath, { force: true })
    throw new SnapshotFailedError((error as Error).message)
  }
  const durationMs = round(performance.now() - started, 1)
  return {
    id,
    filePath,
    bytes,
    durationMs,
    heapUsedBytes,
    ...heap,
    createdAt: createdAt.toISOString(),
    ...peak.finish(heapUsedBytes),
    ...(requests === undefined ? {} : { requests }),
    ...(redacted === undefined ? {} : { redaction: redacted })
  }
}

/**
 * Node 20's `writeHeapSnapshot` returns without closing its file descriptor when a write fails
 * (ENOSPC, EIO): the removed temporary file would keep its disk space, and a full disk would stay
 * full, until the process exits. Seen here: the descriptor is still open after the exception.
 */
function closeDescriptorsOf (path: string, proc: ProcFiles): void {
  let fds: string[]
  try {
    fds = readdirSync(proc.fd)
  } catch {
    return // no /proc: nothing to find them with
  }
  for (const fd of fds) {
    let target: string
    try {
      target = readlinkSync(join(proc.fd, fd))
    } catch {
      continue // the descriptor readdirSync used, closed since
    }
    if (target === path) closeSync(Number(fd))
  }
}
