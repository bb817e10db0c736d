import { finished } from 'node:stream'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { InsufficientHeadroomError, InvalidRequestError, SnapshotInProgressError, SnapshotNotFoundError, UploadFailedError } from '../errors.js'
import { routeOptions } from '../route-options.js'
import type { RouteRateLimit } from '../types/options.js'
import type { DiagnosticsMetrics } from '../metrics.js'
import type { RouteAccess } from '../route-access.js'
import {
  errorResponse,
  insufficientHeadroomResponse,
  noContentResponse,
  snapshotFileResponse,
  snapshotConflictResponse,
  snapshotJobResponse,
  snapshotPendingResponse,
  snapshotUploadResponse,
  uploadFailedResponse,
  writtenSnapshotResponse
} from '../schemas.js'
import { isSnapshotRefusal } from '../snapshot/lifecycle.js'
import type { SnapshotLifecycle, SnapshotRefusal } from '../snapshot/lifecycle.js'
import { sendSnapshotFile } from '../snapshot/send.js'
import { SNAPSHOT_ID_PATTERN } from '../snapshot/names.js'
import type { SnapshotStore } from '../snapshot/store.js'
import type { SnapshotJobStatus } from '../types/reports.js'
import { isFailedUpload } from '../upload/object-store.js'
import type { SnapshotUpload } from '../upload/snapshot-upload.js'

export interface HeapSnapshotRoutesOptions {
  snapshots: SnapshotLifecycle
  store: SnapshotStore
  access: RouteAccess
  /** `POST /heap-snapshot`. */
  takeSnapshotLimit: RouteRateLimit | false
  /** `GET` and `DELETE /heap-snapshot/:id`. */
  snapshotFilesLimit: RouteRateLimit | false
  /** Counts snapshots taken and refused, when Prometheus metrics are on. */
  metrics: DiagnosticsMetrics | null
  /** See `snapshot.sendTimeoutMs`. */
  sendTimeoutMs: number
  /** With the `upload` option: uploads a snapshot written. */
  upload: SnapshotUpload | null
}

interface TakeQuery {
  download: boolean
  gzip: boolean
  wait: boolean
  upload: boolean
}

const NO_UPLOAD = 'no object store is configured: register the plugin with the `upload` option (see docs/object-storage.md)'

interface SnapshotParams {
  id: string
}

const gzipParameter = { type: 'boolean', default: true }
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: SNAPSHOT_ID_PATTERN } }
}

export function heapSnapshotRoutes (instance: FastifyInstance, options: HeapSnapshotRoutesOptions): void {
  const { snapshots, store, access, metrics, sendTimeoutMs, upload } = options
  const locationOf = (id: string) => `${instance.prefix}/heap-snapshot/${id}`
  function refuse (reply: FastifyReply, refused: SnapshotRefusal): never {
    reply.header('retry-after', refused.retryAfterSeconds)
    metrics?.snapshotRefused(refused instanceof InsufficientHeadroomError ? 'headroom' : 'in_progress')
    throw refused
  }

  const takeAccess = access.onRequest(options.takeSnapshotLimit, {
    onLimited: () => metrics?.snapshotRefused('rate_limited'),
    // a snapshot that would be refused spends no credit: two 503s must not lock the operator out
    // for the rest of the window once memory has freed up
    beforeLimit: async function refuseBeforeTheLimit (_request, reply) {
      const refused = snapshots.refusal()
      if (refused !== null) refuse(reply, refused)
    }
  })
  instance.post<{ Querystring: TakeQuery }>('/heap-snapshot', routeOptions(takeAccess, {
    query: {
      download: { type: 'boolean', default: false },
      gzip: gzipParameter,
      wait: { type: 'boolean', default: true },
      // every snapshot leaves the process when a store is configured, unless asked not to
      upload: { type: 'boolean', default: upload !== null }
    },
    response: { 201: writtenSnapshotResponse, 202: snapshotPendingResponse, 409: snapshotConflictResponse, 503: insufficientHeadroomResponse }
  }), async function takeHeapSnapshot (request, reply) {
    const { download, gzip, wait } = request.query
    if (download && !wait) {
      throw new InvalidRequestError('`download=true` sends the snapshot in this response: it cannot be combined with `wait=false`')
    }
    if (request.query.upload && upload === null) throw new InvalidRequestError(`\`upload=true\`: ${NO_UPLOAD}`)
    const uploadFile = request.query.upload ? upload : null
    const log = request.log
    let job
    try {
      job = snapshots.take({
        log,
        // ?wait=false: taken once the 202 is flushed (or the client gone), the loop being about to block
        ...(wait ? {} : { startWhen: () => new Promise<void>((resolve) => { finished(reply.raw, () => setImmediate(resolve)) }) }),
        ...(download ? { send: (file) => sendSnapshotFile(reply, file, { statusCode: 201, gzip, location: locationOf(file.id), log, sendTimeoutMs }) } : {}),
        ...(uploadFile === null ? {} : { upload: (file) => uploadFile(file.id, log) })
      })
    } catch (error) {
      // the lock taken, or memory grown, since the check before the limit
      if (isSnapshotRefusal(error)) refuse(reply, error)
      throw error
    }
    const location = locationOf(job.id)
    // a failure is logged by the lifecycle, and answered to a GET of this id
    job.written.then(() => metrics?.snapshotTaken(), () => {})
    if (!wait) {
      return reply.code(202).header('location', location).header('retry-after', 1).send({ id: job.id, status: 'in-progress', location })
    }
    const written = await job.written
    if (!download) {
      const uploaded = await job.uploaded
      return reply.code(201).header('location', location).send(uploaded === null ? written : { ...written, upload: uploaded })
    }
    await job.finished
    return reply
  })

  instance.get<{ Params: SnapshotParams, Querystring: { gzip: boolean } }>('/heap-snapshot/:id', {
    ...routeOptions(access.onRequest(options.snapshotFilesLimit), {
      params: idParams,
      query: { gzip: gzipParameter },
      response: { 200: snapshotFileResponse, 202: snapshotPendingResponse, 404: errorResponse }
    }),
    // A HEAD would read and compress the whole file for nothing.
    exposeHeadRoute: false
  }, async function downloadHeapSnapshot (request, reply) {
    const { id } = request.params
    if (snapshots.phase(id) === 'writing') {
      const location = locationOf(id)
      return reply.code(202).header('location', location).header('retry-after', 1).send({ id, status: 'in-progress', location })
    }
    const file = await store.open(id)
    if (file === null) throw snapshots.failure(id) ?? new SnapshotNotFoundError()
    await sendSnapshotFile(reply, file, { statusCode: 200, gzip: request.query.gzip, location: null, log: request.log, sendTimeoutMs })
    return reply
  })

  instance.get<{ Params: SnapshotParams }>('/heap-snapshot/:id/status', routeOptions(access.onRequest(options.snapshotFilesLimit), {
    params: idParams,
    response: { 200: snapshotJobResponse, 404: errorResponse }
  }), async function snapshotJobStatus (request, reply) {
    const { id } = request.params
    const job = snapshots.job(id)
    const localFile = store.exists(id)
    // a file from before this process started: complete, nothing known of its upload
    if (job === null && !localFile) throw new SnapshotNotFoundError()
    const status: SnapshotJobStatus = { id, ...(job ?? { status: 'done' }), localFile }
    return reply.send(status)
  })

  instance.post<{ Params: SnapshotParams }>('/heap-snapshot/:id/upload', routeOptions(access.onRequest(options.snapshotFilesLimit), {
    params: idParams,
    response: { 201: snapshotUploadResponse, 404: errorResponse, 409: errorResponse, 502: uploadFailedResponse }
  }), async function uploadHeapSnapshot (request, reply) {
    const { id } = request.params
    if (upload === null) throw new InvalidRequestError(NO_UPLOAD)
    if (!store.exists(id)) throw new SnapshotNotFoundError()
    const report = await snapshots.uploadAgain(id, () => upload(id, request.log))
    if (isFailedUpload(report)) throw Object.assign(new UploadFailedError(`${report.error.code}: ${report.error.message}`), { figures: { upload: report } })
    return reply.code(201).send({ id, upload: report })
  })

  instance.delete<{ Params: SnapshotParams }>('/heap-snapshot/:id', routeOptions(access.onRequest(options.snapshotFilesLimit), {
    params: idParams,
    response: { 204: noContentResponse, 404: errorResponse, 409: errorResponse }
  }), async function deleteHeapSnapshot (request, reply) {
    const { id } = request.params
    const phase = snapshots.phase(id)
    // cooling down, the file is complete and nothing reads it
    if (phase === 'writing' || phase === 'sending' || phase === 'uploading') throw new SnapshotInProgressError()
    if (!await store.remove(id)) throw new SnapshotNotFoundError()
    request.log.info({ snapshotId: id }, 'fastify-memory-diagnostics: heap snapshot deleted')
    return reply.code(204).send()
  })
}
