import { Binary, type Document } from 'bson'
import { isPlainObject } from '../bson-values.js'
import type { CommandContext } from '../context.js'
import type { Batch } from '../cursors.js'
import { CommandError, typeMismatch } from '../errors.js'
import { checkCollectionName } from '../storage.js'

/** The collection a command targets: the string value of its first field. */
export function targetCollection (ctx: CommandContext): string {
  const name = Object.keys(ctx.command)[0] as string
  const value: unknown = ctx.command[name]
  if (typeof value !== 'string') throw typeMismatch(name, 'string', value)
  return checkCollectionName(ctx.db, value)
}

export function optionalInt (command: Document, field: string): number | undefined {
  const value: unknown = command[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeMismatch(field, 'int', value)
  if (value < 0) throw new CommandError('BadValue', `${field} must be non-negative, but received: ${value}`)
  return value
}

export function optionalBool (command: Document, field: string): boolean {
  const value: unknown = command[field]
  if (value === undefined || value === null) return false
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return value !== 0
  throw typeMismatch(field, 'bool', value)
}

export function requireDocuments (command: Document, field: string): Document[] {
  const value: unknown = command[field]
  if (!Array.isArray(value)) throw typeMismatch(field, 'array', value)
  for (const item of value) if (!isPlainObject(item)) throw typeMismatch(`${field}.item`, 'object', item)
  return value
}

/** The statements of a write command: 1 to maxWriteBatchSize documents. */
export function writeBatch (command: Document, field: string): Document[] {
  const statements = requireDocuments(command, field)
  if (statements.length === 0 || statements.length > 100_000) {
    throw new CommandError('InvalidLength', `Write batch sizes must be between 1 and 100000. Got ${statements.length} operations.`)
  }
  return statements
}

/** The cursor sub-document's batchSize (`{ cursor: { batchSize } }` in aggregate/listCollections). */
export function cursorBatchSize (command: Document): number | undefined {
  const cursor: unknown = command.cursor
  if (cursor === undefined) return undefined
  if (!isPlainObject(cursor)) throw typeMismatch('cursor', 'object', cursor)
  return optionalInt(cursor, 'batchSize')
}

/** A logical session id (`{ id: <UUID> }`) as a string key, or undefined when it is not one. */
export function sessionId (lsid: unknown): string | undefined {
  if (!isPlainObject(lsid) || !(lsid.id instanceof Binary)) return undefined
  return lsid.id.toString('hex')
}

export function cursorReply (batch: Batch, first: boolean): Document {
  return { cursor: { [first ? 'firstBatch' : 'nextBatch']: batch.docs, id: batch.id, ns: batch.ns } }
}

/** Opens a cursor over `docs` and answers with its first batch. */
export function openCursor (ctx: CommandContext, ns: string, docs: Document[], batchSize: number | undefined, singleBatch = false): Document {
  const batch = ctx.server.cursors.open({ ns, db: ctx.db, docs, batchSize, singleBatch, session: sessionId(ctx.command.lsid) })
  return cursorReply(batch, true)
}

/**
 * Runs the statements of a write command (insert/update/delete) in order; an error becomes a
 * writeError and stops the command when `ordered` (the default), like mongod.
 */
export function runStatements<T> (ctx: CommandContext, statements: T[], run: (statement: T, index: number) => void): Document[] {
  const ordered = ctx.command.ordered !== false
  const writeErrors: Document[] = []
  for (let i = 0; i < statements.length; i++) {
    try {
      run(statements[i] as T, i)
    } catch (error) {
      if (!(error instanceof CommandError)) throw error
      writeErrors.push(error.toWriteError(i))
      if (ordered) break
    }
  }
  return writeErrors
}

export function withWriteErrors (reply: Document, writeErrors: Document[]): Document {
  return writeErrors.length > 0 ? { ...reply, writeErrors } : reply
}
