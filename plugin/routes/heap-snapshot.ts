import type { OutgoingHttpHeaders } from 'node:http'
import { finished, pipeline } from 'node:stream'
import { createGzip } from 'node:zlib'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify'
import {
  InsufficientHeadroomError,
  InvalidRequestError,
  SnapshotFailedError,
  SnapshotInProgressError,
  SnapshotNotFoundError
} from '../errors.js'
import { redactingLogSerializers } from '../log-redaction.js'
import type { RouteRateLimit } from '../options.js'
import type { DiagnosticsMetrics } from '../metrics.js'
import type { RouteGuards } from '../route-guards.js'
import {
  errorResponse,
  guardedErrorResponses,
  insufficientHeadroomResponse,
  noContentResponse,
  onlyQueryParameters,
  snapshotFileResponse,
  snapshotPendingResponse,
  writtenSnapshotResponse
} from '../schemas.js'
import { SNAPSHOT_ID_PATTERN } from '../snapshot-store.js'
import type { OpenedSnapshot, SnapshotStore } from '../snapshot-store.js'
import type { SnapshotTaker } from '../snapshot-taker.js'

export interface HeapSnapshotRoutesOptions {
  taker: SnapshotTaker
  store: SnapshotStore
  guards: RouteGuards
  /** `POST /heap-snapshot`. */
  takeSnapshotLimit: RouteRateLimit | false
  /** `GET` and `DELETE /heap-snapshot/:id`. */
  snapshotFilesLimit: RouteRateLimit | false
  /** Counts snapshots taken and refused, when Prometheus metrics are on. */
  metrics: DiagnosticsMetrics | null
}

interface TakeQuery {
  download: boolean
  gzip: boolean
  wait: boolean
}

interface SnapshotParams {
  id: string
}

// Memory does not free itself on a schedule; a minute lets a GC or a traffic dip happen first.
const HEADROOM_RETRY_AFTER_SECONDS = 60
const GZIP_LEVEL = 1

const gzipParameter = { type: 'boolean', default: true }
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: SNAPSHOT_ID_PATTERN } }
}

export function heapSnapshotRoutes (instance: FastifyInstance, options: HeapSnapshotRoutesOptions): void {
  const { taker, store, guards, metrics } = options
  const locationOf = (id: string) => `${instance.prefix}/heap-snapshot/${id}`

  instance.post<{ Querystring: TakeQuery }>('/heap-snapshot', {
    onRequest: guards.onRequest(options.takeSnapshotLimit, { onLimited: () => metrics?.snapshotRefused('rate_limited') }),
    logSerializers: redactingLogSerializers,
    schema: {
      querystring: onlyQueryParameters({
        download: { type: 'boolean', default: false },
        gzip: gzipParameter,
        wait: { type: 'boolean', default: true }
      }),
      response: {
        201: writtenSnapshotResponse,
        202: snapshotPendingResponse,
        ...guardedErrorResponses,
        409: errorResponse,
        503: insufficientHeadroomResponse
      }
    }
  }, async function takeHeapSnapshot (request, reply) {
    const { download, gzip, wait } = request.query
    if (download && !wait) {
      throw new InvalidRequestError('`download=true` sends the snapshot in this response: it cannot be combined with `wait=false`')
    }
    let id: string
    try {
      id = taker.begin()
    } catch (error) {
      if (error instanceof InsufficientHeadroomError) {
        reply.header('retry-after', HEADROOM_RETRY_AFTER_SECONDS)
        metrics?.snapshotRefused('headroom')
      } else if (error instanceof SnapshotInProgressError) {
        metrics?.snapshotRefused('in_progress')
      }
      throw error
    }
    const location = locationOf(id)
    const log = request.log

    if (!wait) {
      // Taken once the 202 is flushed (or the client gone): the event loop is about to be blocked.
      finished(reply.raw, () => setImmediate(function takeDeferredSnapshot () {
        // a failure is logged by the taker, and answered to a GET of this id
        taker.write(id, log).then(() => metrics?.snapshotTaken(), () => {}).finally(() => taker.release(id))
      }))
      return reply.code(202).header('location', location).header('retry-after', 1).send({ id, status: 'in-progress', location })
    }

    let file: OpenedSnapshot | null
    try {
      const written = await taker.write(id, log)
      metrics?.snapshotTaken()
      if (!download) {
        taker.release(id)
        return reply.code(201).header('location', location).send(written)
      }
      file = await store.open(id, { ignoreAge: true })
    } catch (error) {
      taker.release(id)
      throw error
    }
    /* c8 ignore next 4 -- only when something outside the plugin removed the file just written */
    if (file === null) {
      taker.release(id)
      throw new SnapshotFailedError('the snapshot file was removed before it could be sent')
    }
    sendSnapshotFile(reply, file, { statusCode: 201, gzip, location, log }, () => taker.release(id))
    return reply
  })

  instance.get<{ Params: SnapshotParams, Querystring: { gzip: boolean } }>('/heap-snapshot/:id', {
    onRequest: guards.onRequest(options.snapshotFilesLimit),
    logSerializers: redactingLogSerializers,
    // A HEAD would read and compress the whole file for nothing.
    exposeHeadRoute: false,
    schema: {
      params: idParams,
      querystring: onlyQueryParameters({ gzip: gzipParameter }),
      response: { 200: snapshotFileResponse, 202: snapshotPendingResponse, ...guardedErrorResponses, 404: errorResponse }
    }
  }, async function downloadHeapSnapshot (request, reply) {
    const { id } = request.params
    if (taker.isBeingWritten(id)) {
      const location = locationOf(id)
      return reply.code(202).header('location', location).header('retry-after', 1).send({ id, status: 'in-progress', location })
    }
    const file = await store.open(id)
    if (file === null) throw taker.failure(id) ?? new SnapshotNotFoundError()
    sendSnapshotFile(reply, file, { statusCode: 200, gzip: request.query.gzip, location: null, log: request.log }, () => {})
    return reply
  })

  instance.delete<{ Params: SnapshotParams }>('/heap-snapshot/:id', {
    onRequest: guards.onRequest(options.snapshotFilesLimit),
    logSerializers: redactingLogSerializers,
    schema: {
      params: idParams,
      querystring: onlyQueryParameters({}),
      response: { 204: noContentResponse, ...guardedErrorResponses, 404: errorResponse, 409: errorResponse }
    }
  }, async function deleteHeapSnapshot (request, reply) {
    const { id } = request.params
    if (taker.isBusy(id)) throw new SnapshotInProgressError()
    if (!await store.remove(id)) throw new SnapshotNotFoundError()
    request.log.info({ snapshotId: id }, 'fastify-memory-diagnostics: heap snapshot deleted')
    return reply.code(204).send()
  })
}

interface SendOptions {
  statusCode: number
  gzip: boolean
  location: string | null
  log: FastifyBaseLogger
}

/**
 * Streams a snapshot file into the response with backpressure, gzip'ed at level 1 unless asked
 * not to (the file is a .gz to save, not a Content-Encoding for the client to undo). The reply is
 * hijacked so that `pipeline` owns every end: complete, failed, or the client gone (the file is
 * closed in each case). `done` runs as soon as the response is over, whichever way, so that a
 * client may ask for the next snapshot right after this one.
 */
function sendSnapshotFile (reply: FastifyReply, file: OpenedSnapshot, { statusCode, gzip, location, log }: SendOptions, done: () => void): void {
  const source = file.handle.createReadStream()
  const headers: OutgoingHttpHeaders = {
    // set earlier by the guards (rate-limit figures); the hijacked reply no longer sends them
    ...reply.getHeaders() as OutgoingHttpHeaders,
    'content-type': gzip ? 'application/gzip' : 'application/octet-stream',
    'content-disposition': `attachment; filename="${file.name}${gzip ? '.gz' : ''}"`,
    'x-heap-snapshot-id': file.id
  }
  if (!gzip) headers['content-length'] = file.bytes
  if (location !== null) headers.location = location
  reply.hijack()
  reply.raw.writeHead(statusCode, headers)
  finished(reply.raw, done)
  // pipeline ends with `undefined` on success
  const ended = (error?: Error | null) => {
    if (error == null) {
      log.info({ snapshotId: file.id, bytes: file.bytes, gzip }, 'fastify-memory-diagnostics: heap snapshot sent')
    } else {
      log.warn({ snapshotId: file.id, err: error }, 'fastify-memory-diagnostics: heap snapshot download interrupted')
    }
  }
  if (gzip) {
    pipeline(source, createGzip({ level: GZIP_LEVEL }), reply.raw, ended)
  } else {
    pipeline(source, reply.raw, ended)
  }
}
