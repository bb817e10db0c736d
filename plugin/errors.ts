import createError from '@fastify/error'

export const MissingCredentialsError = createError(
  'FST_MEMDIAG_MISSING_CREDENTIALS',
  'Authentication required: send "Authorization: Bearer <token>"',
  401
)

export const InvalidCredentialsError = createError(
  'FST_MEMDIAG_INVALID_CREDENTIALS',
  'Invalid credentials',
  401
)

export const RateLimitedError = createError<[string]>(
  'FST_MEMDIAG_RATE_LIMITED',
  'Rate limit exceeded, retry in %s',
  429
)

export const InvalidOptionError = createError<[string]>(
  'FST_MEMDIAG_INVALID_OPTION',
  'fastify-memory-diagnostics: %s',
  500
)

export const InvalidRequestError = createError<[string]>(
  'FST_MEMDIAG_INVALID_REQUEST',
  '%s',
  400
)

export const ForbiddenError = createError(
  'FST_MEMDIAG_FORBIDDEN',
  'Forbidden',
  403
)

export const InternalError = createError(
  'FST_MEMDIAG_INTERNAL_ERROR',
  'Internal error in fastify-memory-diagnostics; see the server log',
  500
)
