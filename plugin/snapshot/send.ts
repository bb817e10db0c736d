import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { finished, pipeline } from 'node:stream'
import { createGzip } from 'node:zlib'
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import type { OpenedSnapshot } from './store.js'

const GZIP_LEVEL = 1

export interface SendOptions {
  statusCode: number
  gzip: boolean
  location: string | null
  log: FastifyBaseLogger
  /** A response that makes no progress for this long (a client that stopped reading) is ended. */
  sendTimeoutMs: number
}

/**
 * Streams a snapshot file into the response with backpressure, gzip'ed at level 1 unless asked
 * not to (the file is a .gz to save, not a Content-Encoding for the client to undo). The reply is
 * hijacked so that `pipeline` owns every end: complete, failed, the client gone, or stalled past
 * `sendTimeoutMs` (the file is closed in each case). Resolves as soon as the response is over,
 * whichever way.
 */
export function sendSnapshotFile (reply: FastifyReply, file: OpenedSnapshot, { statusCode, gzip, location, log, sendTimeoutMs }: SendOptions): Promise<void> {
  const source = file.handle.createReadStream()
  const headers: OutgoingHttpHeaders = {
    // set earlier by the access hooks (rate-limit figures); the hijacked reply no longer sends them
    ...reply.getHeaders() as OutgoingHttpHeaders,
    'content-type': gzip ? 'application/gzip' : 'application/octet-stream',
    'content-disposition': `attachment; filename="${file.name}${gzip ? '.gz' : ''}"`,
    'x-heap-snapshot-id': file.id
  }
  if (!gzip) headers['content-length'] = file.bytes
  if (location !== null) headers.location = location
  reply.hijack()
  const response = reply.raw
  response.writeHead(statusCode, headers)
  const stopStallTimer = endWhenStalled(response, sendTimeoutMs, () => {
    log.warn({ snapshotId: file.id, sendTimeoutMs }, 'fastify-memory-diagnostics: heap snapshot download stalled; connection closed')
  })
  const over = new Promise<void>((resolve) => {
    finished(response, () => {
      stopStallTimer()
      resolve()
    })
  })
  // pipeline ends with `undefined` on success
  const ended = (error?: Error | null) => {
    if (error == null) {
      log.info({ snapshotId: file.id, bytes: file.bytes, gzip }, 'fastify-memory-diagnostics: heap snapshot sent')
    } else {
      log.warn({ snapshotId: file.id, err: error }, 'fastify-memory-diagnostics: heap snapshot download interrupted')
    }
  }
  if (gzip) {
    pipeline(source, createGzip({ level: GZIP_LEVEL }), response, ended)
  } else {
    pipeline(source, response, ended)
  }
  return over
}

/**
 * Destroys the response when no byte has left for `timeoutMs`: the socket's own timeout counts
 * any activity, reads included, so progress is watched on what was written instead.
 */
function endWhenStalled (response: ServerResponse, timeoutMs: number, onStall: () => void): () => void {
  let lastProgress = Date.now()
  let lastWritten = -1
  const timer = setInterval(() => {
    const written = response.socket?.bytesWritten ?? 0
    if (written !== lastWritten) {
      lastWritten = written
      lastProgress = Date.now()
      return
    }
    if (Date.now() - lastProgress >= timeoutMs) {
      clearInterval(timer)
      onStall()
      response.destroy()
    }
  }, Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4))))
  timer.unref()
  return () => clearInterval(timer)
}
