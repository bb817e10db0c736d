import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ForbiddenError, InternalError, InvalidCredentialsError, InvalidRequestError } from './errors.js'

export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
  [figure: string]: unknown
}

/** The plugin's errors, whatever error handler the application has: `{statusCode, code, error, message}`. */
export function diagnosticsErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = normalize(error)
  if (known.statusCode >= 500) {
    request.log.error({ err: error }, 'fastify-memory-diagnostics: request failed')
  }
  const body: ErrorBody = {
    ...figuresOf(error),
    statusCode: known.statusCode,
    code: known.code,
    error: STATUS_CODES[known.statusCode] ?? 'Error',
    message: known.message
  }
  reply.code(known.statusCode).send(body)
}

function normalize (error: FastifyError): { statusCode: number, code: string, message: string } {
  if (error.validation !== undefined) {
    const property = error.validation
      .map((entry) => (entry.params as { propertyName?: string }).propertyName)
      .find((name) => name !== undefined)
    const message = property !== undefined
      ? `unknown ${error.validationContext ?? 'request'} parameter "${property}"`
      : error.message
    return asKnown(new InvalidRequestError(message))
  }
  const statusCode = error.statusCode ?? 500
  if (error.code?.startsWith('FST_MEMDIAG_') === true) return asKnown(error, statusCode)
  // A user auth strategy's own error: keep its status and message, give it one of our codes.
  if (statusCode === 401) return { ...asKnown(new InvalidCredentialsError()), message: error.message }
  if (statusCode === 403) return { ...asKnown(new ForbiddenError()), message: error.message }
  if (statusCode >= 400 && statusCode < 500) return asKnown(new InvalidRequestError(error.message), statusCode)
  return asKnown(new InternalError())
}

function asKnown (error: { statusCode?: number, code: string, message: string }, statusCode = error.statusCode ?? 500) {
  return { statusCode, code: error.code, message: error.message }
}

/** Extra figures an error carries (e.g. the headroom refusal's numbers), under `figures`. */
function figuresOf (error: FastifyError): Record<string, unknown> {
  const figures = (error as { figures?: Record<string, unknown> }).figures
  return figures !== undefined && typeof figures === 'object' ? figures : {}
}
