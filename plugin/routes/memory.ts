import type { FastifyInstance } from 'fastify'
import { redactingLogSerializers } from '../log-redaction.js'
import type { MemoryProbe } from '../memory-probe.js'
import type { RouteRateLimit } from '../options.js'
import type { RouteGuards } from '../route-guards.js'
import { guardedErrorResponses, memoryResponse, onlyQueryParameters } from '../schemas.js'

export interface MemoryRouteOptions {
  probe: MemoryProbe
  guards: RouteGuards
  rateLimit: RouteRateLimit | false
}

export function memoryRoute (instance: FastifyInstance, { probe, guards, rateLimit }: MemoryRouteOptions): void {
  instance.get('/memory', {
    onRequest: guards.onRequest(rateLimit),
    logSerializers: redactingLogSerializers,
    schema: {
      querystring: onlyQueryParameters({}),
      response: { 200: memoryResponse, ...guardedErrorResponses }
    }
  }, async () => probe.read())
}
