import { closeSync, openSync } from 'node:fs'
import { isMainThread, workerData } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { redactDescriptor } from './redact-copy.js'
import type { RedactSettings, RedactSummary } from './redact-stream.js'

// The thread that reads V8's snapshot from a named pipe while the main thread is blocked in
// `writeHeapSnapshot`, and writes the redacted file: the raw snapshot never reaches a disk.

const JOB = 'fastify-memory-diagnostics:redact'

/** `state[0]` as the worker moves on; the main thread waits on it with `Atomics.wait`. */
export const WorkerState = { starting: 0, reading: 1, done: 2 } as const

export interface RedactJob {
  job: typeof JOB
  /** The named pipe V8 writes into. */
  pipe: string
  /** The redacted file, created (0600) by the main thread before V8 writes. */
  out: string
  settings: RedactSettings
  state: Int32Array
  port: MessagePort
}

export type RedactOutcome = { summary: RedactSummary } | { error: string }

/** This file, to start as a worker (the same URL in ESM, CommonJS and the TypeScript sources). */
export function redactWorkerUrl (): URL {
  return new URL(import.meta.url)
}

export function redactJob (fields: Omit<RedactJob, 'job'>): RedactJob {
  return { job: JOB, ...fields }
}

function isRedactJob (data: unknown): data is RedactJob {
  return typeof data === 'object' && data !== null && (data as { job?: unknown }).job === JOB
}

function setState (state: Int32Array, value: number): void {
  Atomics.store(state, 0, value)
  Atomics.notify(state, 0)
}

function run ({ pipe, out, settings, state, port }: RedactJob): void {
  let outcome: RedactOutcome
  try {
    setState(state, WorkerState.reading)
    // blocks this thread until V8 opens the pipe to write
    const input = openSync(pipe, 'r')
    try {
      const output = openSync(out, 'r+')
      try {
        outcome = { summary: redactDescriptor(input, output, settings) }
      } finally {
        closeSync(output)
      }
    } finally {
      closeSync(input)
    }
  } catch (error) {
    outcome = { error: (error as Error).message }
  }
  port.postMessage(outcome)
  port.close()
  setState(state, WorkerState.done)
}

if (!isMainThread && isRedactJob(workerData)) run(workerData)
