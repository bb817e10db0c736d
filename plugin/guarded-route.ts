import type { onRequestHookHandler } from 'fastify'
import { redactingLogSerializers } from './log-redaction.js'
import { guardedErrorResponses, onlyQueryParameters } from './schemas.js'

export interface GuardedRouteSchema {
  /** The query parameters the route accepts (JSON schemas by name); any other answers 400. */
  query?: Record<string, unknown>
  params?: Record<string, unknown>
  /** The route's own answers, next to the guards' 400, 401, 403, 429 and 500. */
  response: Record<number, unknown>
}

/**
 * The options every route of the plugin shares: its guards (`RouteGuards.onRequest`), a log
 * serializer that records no credential, unknown query parameters refused, the guards' answers
 * declared with the route's own.
 */
export function guardedRoute (onRequest: onRequestHookHandler[], { query = {}, params, response }: GuardedRouteSchema) {
  return {
    onRequest,
    logSerializers: redactingLogSerializers,
    schema: {
      ...(params === undefined ? {} : { params }),
      querystring: onlyQueryParameters(query),
      response: { ...guardedErrorResponses, ...response }
    }
  }
}
