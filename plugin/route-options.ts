import type { onRequestHookHandler } from 'fastify'
import { redactingLogSerializers } from './log-redaction.js'
import { commonErrorResponses, onlyQueryParameters } from './schemas.js'

export interface RouteSchema {
  /** The query parameters the route accepts (JSON schemas by name); any other answers 400. */
  query?: Record<string, unknown>
  params?: Record<string, unknown>
  /** The route's own answers, next to the 400, 401, 403, 429 and 500 every route can give. */
  response: Record<number, unknown>
}

/**
 * The options every route of the plugin shares: its access hooks (`RouteAccess.onRequest`), a log
 * serializer that records no credential, unknown query parameters refused, the answers of
 * access and validation declared with the route's own.
 */
export function routeOptions (onRequest: onRequestHookHandler[], { query = {}, params, response }: RouteSchema) {
  return {
    onRequest,
    logSerializers: redactingLogSerializers,
    schema: {
      ...(params === undefined ? {} : { params }),
      querystring: onlyQueryParameters(query),
      response: { ...commonErrorResponses, ...response }
    }
  }
}
