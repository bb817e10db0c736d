import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import { redactingLogSerializers } from '../log-redaction.js'
import type { MetricsRegistry } from '../metrics.js'
import { guardedErrorResponses, onlyQueryParameters } from '../schemas.js'

export interface MetricsRouteOptions {
  registry: MetricsRegistry
  onRequest: onRequestHookHandler[]
}

/** `GET /metrics`: the application's registry in Prometheus' text format, for a scraper. */
export function metricsRoute (instance: FastifyInstance, { registry, onRequest }: MetricsRouteOptions): void {
  instance.get('/metrics', {
    onRequest,
    logSerializers: redactingLogSerializers,
    schema: {
      querystring: onlyQueryParameters({}),
      response: { 200: { type: 'string' }, ...guardedErrorResponses }
    }
  }, async (_request, reply) => {
    reply.type(registry.contentType)
    return await registry.metrics()
  })
}
