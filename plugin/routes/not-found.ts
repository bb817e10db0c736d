import type { FastifyInstance, HTTPMethods } from 'fastify'
import { RouteNotFoundError } from '../errors.js'
import { pathOf, redactingLogSerializers } from '../log-redaction.js'
import { errorResponse } from '../schemas.js'

// OPTIONS is left to the application (a CORS plugin answers preflights for every path).
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

/**
 * Everything under the plugin's prefix that no route of the plugin matches (an unknown path, a
 * wrong method, a trailing slash, an id longer than the router's `maxParamLength`) answers in the
 * plugin's error shape, and is logged through its redacting serializer. A route rather than
 * `setNotFoundHandler`, whose context takes no log serializers. Only under a prefix: without one
 * it would take over the application's own 404s.
 */
export function notFoundRoutes (instance: FastifyInstance): void {
  if (instance.prefix === '') return
  const options = {
    method: METHODS,
    logSerializers: redactingLogSerializers,
    schema: { response: { 404: errorResponse } },
    handler: async function routeNotFound (request: { method: string, url: string }): Promise<never> {
      throw new RouteNotFoundError(request.method, pathOf(request.url))
    }
  }
  instance.route({ ...options, url: '' })
  instance.route({ ...options, url: '/*' })
}
