import type { FastifyRequest } from 'fastify'

/**
 * Request log serializer for every route of the plugin (the not-found one included). It replaces
 * whatever `req` serializer the application uses (one that logs headers would log the bearer
 * token) with Fastify's default fields, never the headers, and the URL without its query string
 * (a client may send its token as `?access_token=`, or any secret in another parameter).
 */
export const redactingLogSerializers = {
  req (request: FastifyRequest) {
    return {
      method: request.method,
      url: pathOf(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort
    }
  }
}

export function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}
