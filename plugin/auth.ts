import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidCredentialsError, MissingCredentialsError } from './errors.js'
import type { AuthStrategy } from './types/options.js'

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i

/**
 * Why a configured token could never be presented in `Authorization: Bearer <token>`, or null.
 * Node's HTTP parser refuses control characters in header values and reads bytes above 0x7f as
 * latin1 (so a UTF-8 token arrives as other characters); RFC 6750 allows only token68 characters.
 * The messages never quote the token, nor any character of it.
 */
export function unusableTokenReason (token: string): string | null {
  if (/[\r\n]$/.test(token)) return 'ends with a newline (read from a file? trim it)'
  if (/^\s|\s$/.test(token)) return 'starts or ends with whitespace (trim it)'
  if (/\s/.test(token)) return 'contains whitespace'
  // eslint-disable-next-line no-control-regex -- control characters are what this rule looks for
  if (/[\x00-\x1f\x7f]/.test(token)) return 'contains a control character'
  if (/[\u0080-\uffff]/.test(token)) return 'contains a non-ASCII character'
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    return 'contains a character outside the bearer token set of RFC 6750 (letters, digits, - . _ ~ + / and trailing =), e.g. from `openssl rand -base64 32`'
  }
  return null
}

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
