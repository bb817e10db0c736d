import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import { routeOptions } from '../route-options.js'
import type { MetricsRegistry } from '../types/options.js'

export interface MetricsRouteOptions {
  registry: MetricsRegistry
  onRequest: onRequestHookHandler[]
}

/** `GET /metrics`: the application's registry in Prometheus' text format, for a scraper. */
export function metricsRoute (instance: FastifyInstance, { registry, onRequest }: MetricsRouteOptions): void {
  instance.get('/metrics', routeOptions(onRequest, { response: { 200: { type: 'string' } } }), async (_request, reply) => {
    reply.type(registry.contentType)
    return await registry.metrics()
  })
}
