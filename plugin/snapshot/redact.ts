import { execFileSync } from 'node:child_process'
import { chmodSync, closeSync, constants, openSync, rmSync } from 'node:fs'
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads'
import type { WorkerOptions } from 'node:worker_threads'
import { REQUEST_COUNT_MARK_PREFIX } from '../request-counter.js'
import type { HeapWriter } from './heap-writer.js'
import { redactDescriptor } from './redact-copy.js'
import type { RedactSettings, RedactSummary } from './redact-stream.js'
import type { ResolvedRedaction } from '../types/options.js'
import type { RedactionReport } from '../types/reports.js'
import { redactJob, redactWorkerUrl, WorkerState } from './redact-worker.js'
import type { RedactOutcome } from './redact-worker.js'

export interface RedactionStart {
  /** Where V8 writes: a named pipe, or a raw file removed at once when no pipe can be made. */
  raw: string
  /** The redacted file; created (0600) by the writer before `write`. */
  out: string
  redaction: ResolvedRedaction
  /** `file` skips the pipe (the bench and the tests of the fallback); the pipe where it can be made otherwise. */
  via?: 'pipe' | 'file'
}

export interface RedactedWrite {
  writeHeap: HeapWriter
  /** Closes what a failed `writeHeap` left open on `raw` (Node 20 leaves its descriptor). */
  closeLeftovers: (path: string) => void
}

/** A redaction ready to take the snapshot: its worker is running (or no pipe could be made). */
export interface StartedRedaction {
  /** Writes the snapshot through the redactor into `out`, synchronously like `writeHeapSnapshot`. */
  write (options: RedactedWrite): RedactionReport
  /** Releases the worker and removes the pipe when `write` will not be called; no-op after it. */
  abort (): void
}

// The worker starts in ~30-100 ms (seconds under load); far longer means it never will.
const START_TIMEOUT_MS = 30_000
// After V8 is done the worker has at most a pipe's buffer and a chunk left to rewrite.
const FINISH_TIMEOUT_MS = 60_000
// Its JS heap holds a chunk's worth of small objects (12-38 MB measured); the bitsets and buffers
// are outside it. Generous on purpose: a worker stopped at its limit while V8 writes would leave
// the pipe open with no one reading, and the blocked main thread waiting on it for ever.
const WORKER_LIMITS = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 }

export function redactSettings (redaction: ResolvedRedaction): RedactSettings {
  return { keepShorterThan: redaction.keepShorterThan, keepPrefixes: [REQUEST_COUNT_MARK_PREFIX] }
}

/**
 * Gets a redacted snapshot ready, before the event loop is blocked: V8 will write into a named
 * pipe that a worker thread reads, rewrites and writes to `out` while the main thread is blocked
 * in V8. The worker is awaited here, not while blocked: a loader hook the process runs with (an
 * APM agent's `--import`, tap's) may need the main thread's event loop to load it. Where no pipe
 * can be made (no `mkfifo`), V8 will write a raw file (0600) that is rewritten then removed.
 */
export async function startRedaction (start: RedactionStart): Promise<StartedRedaction> {
  if (start.via !== 'file' && makePipe(start.raw)) return await startPipe(start)
  return {
    write: (options) => ({ ...throughFile(start, options), via: 'file' }),
    abort: () => {}
  }
}

/** Starts and writes at once: the bench's and the tests' shortcut. */
export async function writeRedactedSnapshot (options: RedactionStart & RedactedWrite): Promise<RedactionReport> {
  return (await startRedaction(options)).write(options)
}

function makePipe (path: string): boolean {
  try {
    execFileSync('mkfifo', ['-m', '600', '--', path], { stdio: 'ignore' })
  } catch {
    rmSync(path, { force: true })
    return false
  }
  chmodSync(path, 0o600)
  return true
}

async function startPipe ({ raw, out, redaction }: RedactionStart): Promise<StartedRedaction> {
  const state = new Int32Array(new SharedArrayBuffer(4))
  const { port1, port2 } = new MessageChannel()
  let worker: Worker | null = null
  const cleanUp = (): void => {
    if (Atomics.load(state, 0) !== WorkerState.done) worker?.terminate().catch(() => {})
    port1.close()
    rmSync(raw, { force: true })
  }
  try {
    worker = startWorker(redactWorkerUrl(), {
      workerData: redactJob({ pipe: raw, out, settings: redactSettings(redaction), state, port: port2 }),
      transferList: [port2],
      resourceLimits: WORKER_LIMITS
    })
    // its failures are answered through `state` and the port; an 'error' left unheard would crash the process
    worker.on('error', () => {})
    const exited = new Promise<void>((resolve) => { worker?.once('exit', () => resolve()) })
    const waited = waitAsync(state, 0, WorkerState.starting, START_TIMEOUT_MS)
    // ref'd while it starts (an Atomics.waitAsync keeps nothing alive), never after
    await Promise.race([waited.async ? waited.value : Promise.resolve(), exited])
    worker.unref()
    if (Atomics.load(state, 0) !== WorkerState.reading) {
      throw new Error(`the redaction worker did not start (within ${START_TIMEOUT_MS / 1000} s)`)
    }
  } catch (error) {
    cleanUp()
    throw error
  }
  let used = false
  return {
    write ({ writeHeap, closeLeftovers }) {
      used = true
      try {
        try {
          writeHeap(raw)
        } catch (error) {
          closeLeftovers(raw)
          releaseReader(raw, state)
          waitUntilDone(state)
          throw error
        }
        waitUntilDone(state)
        const outcome = receiveMessageOnPort(port1)?.message as RedactOutcome | undefined
        if (outcome === undefined) throw new Error('the redaction worker ended without an answer')
        if ('error' in outcome) throw new Error(`redaction failed: ${outcome.error}`)
        return { ...outcome.summary, via: 'pipe' }
      } finally {
        cleanUp()
      }
    },
    abort () {
      if (used) return
      used = true
      releaseReader(raw, state)
      try {
        waitUntilDone(state)
      } catch {}
      cleanUp()
    }
  }
}

// In Node since 16 (V8 8.7); in TypeScript's lib from ES2024 only.
const waitAsync = (Atomics as unknown as {
  waitAsync: (array: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean, value: Promise<string> | string }
}).waitAsync

// Node 20's workers do not inherit the main thread's loader hooks (22 and 24 do).
const WORKERS_INHERIT_HOOKS = Number(process.versions.node.split('.')[0]) >= 22

/**
 * Built, the worker is plain JavaScript. From the TypeScript sources (the tests, `node --import
 * tsx`) on Node 20, it registers tsx itself; that leaves one MessagePort per worker in the main
 * thread (measured: 1 per snapshot), which only the sources on Node 20 pay.
 */
function startWorker (url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts') || WORKERS_INHERIT_HOOKS) return new Worker(url, options)
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(bootstrap, { ...options, eval: true })
}

function waitUntilDone (state: Int32Array): void {
  const deadline = Date.now() + FINISH_TIMEOUT_MS
  while (Atomics.load(state, 0) !== WorkerState.done) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`the redaction worker did not finish within ${FINISH_TIMEOUT_MS / 1000} s of the snapshot`)
    Atomics.wait(state, 0, WorkerState.reading, left)
  }
}

/**
 * When V8 failed before opening the pipe, the worker waits in `open` for a writer: one that opens
 * and closes at once lets it see the end. ENXIO until the worker is in `open`: tried again.
 */
function releaseReader (pipe: string, state: Int32Array): void {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (let attempt = 0; attempt < 1000 && Atomics.load(state, 0) !== WorkerState.done; attempt++) {
    try {
      closeSync(openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK))
      return
    } catch {
      Atomics.wait(pause, 0, 0, 5)
    }
  }
}

function throughFile ({ raw, out, redaction }: RedactionStart, { writeHeap, closeLeftovers }: RedactedWrite): RedactSummary {
  try {
    closeSync(openSync(raw, 'wx', 0o600))
    chmodSync(raw, 0o600)
    try {
      writeHeap(raw)
    } catch (error) {
      closeLeftovers(raw)
      throw error
    }
    const input = openSync(raw, 'r')
    rmSync(raw) // gone from the directory at once; read through the descriptor
    const output = openSync(out, 'r+')
    try {
      return redactDescriptor(input, output, redactSettings(redaction))
    } finally {
      closeSync(input)
      closeSync(output)
    }
  } finally {
    rmSync(raw, { force: true })
  }
}
