import type { Document } from 'bson'

/**
 * Server error codes, with the names real MongoDB uses (src/mongo/base/error_codes.yml).
 * Only the ones this server can answer with.
 */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  InvalidLength: 16,
  Unauthorized: 13,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NamespaceNotFound: 26,
  OperationNotSupportedInTransaction: 263,
  UnsupportedOpQueryCommand: 352,
  DuplicateKey: 11000,
  BSONObjectTooLarge: 10334,
  Location40324: 40324
} as const

export type ErrorCodeName = keyof typeof ErrorCodes

/** An error answered to the client as `{ ok: 0, errmsg, code, codeName, ...extra }`. */
export class CommandError extends Error {
  readonly code: number
  readonly codeName: string
  readonly extra: Document | undefined

  constructor (codeName: ErrorCodeName, message: string, extra?: Document) {
    super(message)
    this.name = 'CommandError'
    this.code = ErrorCodes[codeName]
    this.codeName = codeName
    this.extra = extra
  }

  /** The body of a failed command reply. */
  toReply (): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra }
  }

  /** The element of a write command's `writeErrors` array. */
  toWriteError (index: number): Document {
    return { index, code: this.code, errmsg: this.message, ...this.extra }
  }
}

/** An error thrown by mingo as a CommandError: it was caused by what the client sent. */
export function toCommandError (error: unknown): CommandError {
  const message = (error as Error).message
  const stage = /^unregistered pipeline operator (\S+?)\.?$/.exec(message)
  if (stage !== null) return new CommandError('Location40324', `Unrecognized pipeline stage name: '${stage[1] as string}'`)
  if (message.includes('would modify the immutable field')) return new CommandError('ImmutableField', message)
  return new CommandError('BadValue', message)
}

export function badValue (message: string): CommandError {
  return new CommandError('BadValue', message)
}

export function typeMismatch (field: string, expected: string, actual: unknown): CommandError {
  const type = actual === null ? 'null' : Array.isArray(actual) ? 'array' : typeof actual
  return new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type '${type}', expected type '${expected}'`)
}
