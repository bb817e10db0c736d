import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify'
import { MethodNotAllowedError, RouteNotFoundError } from '../errors.js'
import { pathOf, redactingLogSerializers } from '../log-redaction.js'
import { errorResponse } from '../schemas.js'

// OPTIONS is left to the application (a CORS plugin answers preflights for every path).
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

export interface RouteTable {
  /** The methods the plugin's routes answer at this path (empty when none matches it). */
  methodsAt (path: string): string[]
  /** Stops recording (before the catch-all routes are declared). */
  seal (): void
}

/** Records the plugin's routes as they are declared; call it before declaring them. */
export function recordRoutes (instance: FastifyInstance): RouteTable {
  const routes: Array<{ pattern: RegExp, methods: string[] }> = []
  let sealed = false
  instance.addHook('onRoute', (route) => {
    if (sealed) return
    const pattern = route.url.split('/').map((segment) => segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/')
    routes.push({ pattern: new RegExp(`^${pattern}$`), methods: ([] as string[]).concat(route.method) })
  })
  return {
    methodsAt: (path) => [...new Set(routes.filter(({ pattern }) => pattern.test(path)).flatMap(({ methods }) => methods))],
    seal: () => { sealed = true }
  }
}

/**
 * Everything under the plugin's prefix that no route of the plugin matches answers in the
 * plugin's error shape, and is logged through its redacting serializer: 405 with `Allow` for a
 * path of the plugin asked with another method, else 404 (an unknown path, a trailing slash, an
 * id longer than the router's `maxParamLength`). Routes rather than `setNotFoundHandler`, whose
 * context takes no log serializers. Only under a prefix: without one they would take over the
 * application's own 404s.
 */
export function notFoundRoutes (instance: FastifyInstance, table: RouteTable): void {
  table.seal()
  if (instance.prefix === '') return
  const options = {
    method: METHODS,
    logSerializers: redactingLogSerializers,
    schema: { response: { 404: errorResponse, 405: errorResponse } },
    handler: async function routeNotFound (request: FastifyRequest, reply: FastifyReply): Promise<never> {
      const path = pathOf(request.url)
      const allowed = table.methodsAt(path)
      // an id longer than maxParamLength reaches here with a method its route has
      if (allowed.length > 0 && !allowed.includes(request.method)) {
        reply.header('allow', allowed.join(', '))
        throw new MethodNotAllowedError(request.method, path)
      }
      throw new RouteNotFoundError(request.method, path)
    }
  }
  instance.route({ ...options, url: '' })
  instance.route({ ...options, url: '/*' })
}
