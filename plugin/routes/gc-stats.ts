import type { FastifyInstance } from 'fastify'
import type { GcRecorder } from '../gc-recorder.js'
import { redactingLogSerializers } from '../log-redaction.js'
import type { RouteRateLimit } from '../options.js'
import type { RouteGuards } from '../route-guards.js'
import { gcStatsResponse, guardedErrorResponses, onlyQueryParameters } from '../schemas.js'

export interface GcStatsRouteOptions {
  recorder: GcRecorder
  guards: RouteGuards
  rateLimit: RouteRateLimit | false
}

export function gcStatsRoute (instance: FastifyInstance, { recorder, guards, rateLimit }: GcStatsRouteOptions): void {
  instance.get('/gc-stats', {
    onRequest: guards.onRequest(rateLimit),
    logSerializers: redactingLogSerializers,
    schema: {
      querystring: onlyQueryParameters({}),
      response: { 200: gcStatsResponse, ...guardedErrorResponses }
    }
  }, async () => recorder.stats())
}
