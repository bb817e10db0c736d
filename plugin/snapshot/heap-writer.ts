import { writeHeapSnapshot } from 'node:v8'
import type { SnapshotSpan } from '../types/trend.js'

/** What serializes the heap into a file: V8's own, unless a test of what surrounds it says otherwise. */
export type HeapWriter = (path: string) => void

export const v8HeapWriter: HeapWriter = (path) => { writeHeapSnapshot(path) }

/**
 * The options key under which the plugin accepts another `HeapWriter`. A symbol that the package
 * does not export: the fast tests replace V8's serialization (seconds per snapshot of a test
 * process) with a small file to test the routes, locks and files around it; users cannot reach it.
 */
export const HEAP_WRITER = Symbol('fastify-memory-diagnostics heap writer')

export function heapWriterOf (opts: object | undefined): HeapWriter {
  const writer = opts === undefined ? undefined : (opts as { [HEAP_WRITER]?: unknown })[HEAP_WRITER]
  return typeof writer === 'function' ? writer as HeapWriter : v8HeapWriter
}

/** `write`, telling `onWritten` when each write started and ended (whether it succeeded or not). */
export function spanned (write: HeapWriter, onWritten: (span: SnapshotSpan) => void): HeapWriter {
  return (path) => {
    const startMs = Date.now()
    try {
      write(path)
    } finally {
      onWritten({ startMs, endMs: Date.now() })
    }
  }
}
