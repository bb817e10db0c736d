import { readSync, writeSync } from 'node:fs'
import { SnapshotRedactor } from './redact-stream.js'
import type { RedactSettings, RedactSummary } from './redact-stream.js'

// Reads of a pipe return at most its buffer (64 KiB on Linux); a file is read a little further.
const CHUNK_BYTES = 256 * 1024

/**
 * Copies the snapshot from descriptor `input` to `output` through the redactor, synchronously,
 * until `input` ends. When the redactor fails (not a snapshot it can vouch for) or the output
 * cannot be written (a full disk), the rest of `input` is still read and discarded: a writer on
 * the other end of a pipe must never block on a reader that stopped. Then the error is thrown.
 */
export function redactDescriptor (input: number, output: number, settings: RedactSettings): RedactSummary {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES)
  const redactor = new SnapshotRedactor(settings, (bytes) => { writeAll(output, bytes) })
  let failure: unknown = null
  for (;;) {
    const read = readSync(input, chunk, 0, CHUNK_BYTES, null)
    if (read === 0) break
    if (failure !== null) continue
    try {
      redactor.write(chunk.subarray(0, read))
    } catch (error) {
      failure = error
    }
  }
  if (failure !== null) throw failure
  return redactor.end()
}

function writeAll (fd: number, bytes: Buffer): void {
  let written = 0
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
}
