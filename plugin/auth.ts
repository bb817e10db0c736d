import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidCredentialsError, MissingCredentialsError } from './errors.js'
import type { AuthStrategy } from './options.js'

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/**
 * Checks `Authorization: Bearer <token>` against every configured token. Comparing SHA-256
 * digests with timingSafeEqual keeps the time independent of the token's length and content,
 * and every token is compared (no early exit) so the time does not reveal which one matched.
 */
export function bearerTokenStrategy (tokens: string[]): AuthStrategy {
  const expected = tokens.map(digest)
  return async function bearerToken (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization
    if (header === undefined || header === '') {
      reply.header('www-authenticate', 'Bearer realm="memory-diagnostics"')
      throw new MissingCredentialsError()
    }
    const presented = digest(BEARER.exec(header)?.[1] ?? '')
    let matched = false
    for (const candidate of expected) {
      matched = timingSafeEqual(candidate, presented) || matched
    }
    if (!matched) {
      reply.header('www-authenticate', 'Bearer realm="memory-diagnostics", error="invalid_token"')
      throw new InvalidCredentialsError()
    }
  }
}
