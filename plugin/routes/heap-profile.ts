import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { InvalidRequestError, UploadFailedError } from '../errors.js'
import type { HeapProfileDocument } from '../heap-profile/profile-document.js'
import type { HeapProfiler, SamplingSettings } from '../heap-profile/profiler.js'
import { encodePprof } from '../heap-profile/pprof.js'
import { HEAP_PROFILE_LIMITS } from '../heap-profile/limits.js'
import { routeOptions } from '../route-options.js'
import type { RouteAccess } from '../route-access.js'
import { errorResponse, heapProfileFileResponse, heapProfileStatusResponse, heapProfileUploadResponse, noContentResponse, uploadFailedResponse } from '../schemas.js'
import type { RouteRateLimit } from '../types/options.js'
import { heapProfileFileName } from '../upload/object-key.js'
import { isFailedUpload } from '../upload/object-store.js'
import type { ObjectStore } from '../upload/object-store.js'

export interface HeapProfileRoutesOptions {
  profiler: HeapProfiler
  access: RouteAccess
  rateLimit: RouteRateLimit | false
  /** `heapProfile.intervalBytes` and `stackDepth`: what a `POST` without query uses. */
  defaults: SamplingSettings
  /** The profile of live memory now, with the plugin's metadata. */
  readDocument: (options: { sourceMaps: boolean }) => HeapProfileDocument
  /** With the `upload` option: where `POST /heap-profile/upload` puts the profile. */
  objectStore: ObjectStore | null
}

export const HEAP_PROFILE_FORMATS = ['heapprofile', 'pprof'] as const
type HeapProfileFormat = typeof HEAP_PROFILE_FORMATS[number]

const conflicts = { 409: errorResponse, 501: errorResponse }

/** The profile now, as bytes in the format asked for. */
function encoded (document: HeapProfileDocument, format: HeapProfileFormat): Buffer {
  return format === 'pprof' ? encodePprof(document) : Buffer.from(JSON.stringify(document))
}

export function heapProfileRoutes (instance: FastifyInstance, { profiler, access, rateLimit, defaults, readDocument, objectStore }: HeapProfileRoutesOptions): void {
  const onRequest = access.onRequest(rateLimit)

  instance.post<{ Querystring: Partial<SamplingSettings> }>('/heap-profile', routeOptions(onRequest, {
    query: {
      intervalBytes: { type: 'integer', minimum: HEAP_PROFILE_LIMITS.intervalBytes.min, maximum: HEAP_PROFILE_LIMITS.intervalBytes.max },
      stackDepth: { type: 'integer', minimum: HEAP_PROFILE_LIMITS.stackDepth.min, maximum: HEAP_PROFILE_LIMITS.stackDepth.max }
    },
    response: { 200: heapProfileStatusResponse, 201: heapProfileStatusResponse, ...conflicts }
  }), async function startHeapProfile (request, reply) {
    const settings = {
      intervalBytes: request.query.intervalBytes ?? defaults.intervalBytes,
      stackDepth: request.query.stackDepth ?? defaults.stackDepth
    }
    const started = profiler.start(settings)
    if (started) request.log.info(settings, 'fastify-memory-diagnostics: sampling heap profiler started')
    return reply.code(started ? 201 : 200).send(profiler.status())
  })

  instance.get<{ Querystring: { format: HeapProfileFormat, sourceMaps: boolean } }>('/heap-profile', {
    ...routeOptions(onRequest, {
      query: {
        format: { type: 'string', enum: [...HEAP_PROFILE_FORMATS], default: 'heapprofile' },
        // off by default: Node parses each map asked for and keeps it (3.5 MB for a small tsx app)
        sourceMaps: { type: 'boolean', default: false }
      },
      response: { 200: heapProfileFileResponse, ...conflicts }
    }),
    // a HEAD would read the whole profile for nothing
    exposeHeadRoute: false
  }, async function readHeapProfile (request, reply) {
    const startedAt = performance.now()
    const document = readDocument({ sourceMaps: request.query.sourceMaps })
    const pprof = request.query.format === 'pprof'
    const body = encoded(document, request.query.format)
    const meta = document.memoryDiagnostics
    request.log.info({ samples: document.samples.length, bytes: body.length, durationMs: Math.round(performance.now() - startedAt), format: request.query.format },
      'fastify-memory-diagnostics: heap profile read')
    const name = `heap-${meta.pid}-${meta.takenAt.replace(/[:.]/g, '-')}${pprof ? '.pb.gz' : '.heapprofile'}`
    return reply
      .header('content-type', pprof ? 'application/octet-stream' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store')
      .send(body)
  })

  instance.post<{ Querystring: { format: HeapProfileFormat, sourceMaps: boolean } }>('/heap-profile/upload', routeOptions(onRequest, {
    query: {
      format: { type: 'string', enum: [...HEAP_PROFILE_FORMATS], default: 'heapprofile' },
      sourceMaps: { type: 'boolean', default: false }
    },
    response: { 201: heapProfileUploadResponse, ...conflicts, 502: uploadFailedResponse }
  }), async function uploadHeapProfile (request, reply) {
    if (objectStore === null) throw new InvalidRequestError('no object store is configured: register the plugin with the `upload` option (see docs/object-storage.md)')
    const { format } = request.query
    const document = readDocument({ sourceMaps: request.query.sourceMaps })
    const body = encoded(document, format)
    const { takenAt } = document.memoryDiagnostics
    // a few MB at most (live samples only): uploaded from memory; a pprof is gzip'ed already
    const report = await objectStore.upload({ name: heapProfileFileName(takenAt, format), gzip: format !== 'pprof', open: async () => Readable.from([body]) }, request.log)
    if (isFailedUpload(report)) throw Object.assign(new UploadFailedError(`${report.error.code}: ${report.error.message}`), { figures: { upload: report } })
    return reply.code(201).send({ format, samples: document.samples.length, takenAt, upload: report })
  })

  instance.delete('/heap-profile', routeOptions(onRequest, {
    response: { 204: noContentResponse, ...conflicts }
  }), async function stopHeapProfile (request, reply) {
    if (profiler.stop()) request.log.info('fastify-memory-diagnostics: sampling heap profiler stopped')
    return reply.code(204).send()
  })
}
