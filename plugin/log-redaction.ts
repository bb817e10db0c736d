import type { FastifyRequest } from 'fastify'

/**
 * Request log serializer for the plugin's routes. It replaces whatever `req` serializer the
 * application uses (one that logs headers would log the bearer token) with Fastify's default
 * fields, and never the headers.
 */
export const redactingLogSerializers = {
  req (request: FastifyRequest) {
    return {
      method: request.method,
      url: request.url,
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort
    }
  }
}
