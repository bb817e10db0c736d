import { Long } from 'bson'
import type { CommandHandler } from '../context.js'
import { CommandError, typeMismatch } from '../errors.js'
import { findDocuments } from '../query.js'
import { cursorReply, openCursor, optionalBool, optionalInt, targetCollection } from './common.js'

/** find: filter, sort, skip, limit (negative = single batch), projection, batchSize, singleBatch. */
const find: CommandHandler = ctx => {
  const { command } = ctx
  const name = targetCollection(ctx)
  if (optionalBool(command, 'tailable')) {
    throw new CommandError('BadValue', 'error processing query: tailable cursor requested on non capped collection')
  }
  const collection = ctx.server.storage.collection(ctx.db, name)
  const docs = findDocuments(collection?.docs.values() ?? [], {
    filter: command.filter,
    sort: command.sort,
    projection: command.projection,
    skip: command.skip,
    limit: command.limit
  })
  const singleBatch = optionalBool(command, 'singleBatch') || (typeof command.limit === 'number' && command.limit < 0)
  return openCursor(ctx, `${ctx.db}.${name}`, docs, optionalInt(command, 'batchSize'), singleBatch)
}

function cursorId (value: unknown, field: string): number {
  if (typeof value === 'number') return value
  if (value instanceof Long) return value.toNumber()
  throw typeMismatch(field, 'long', value)
}

const getMore: CommandHandler = ctx => {
  const { command } = ctx
  const id = cursorId(command.getMore, 'getMore')
  const collection: unknown = command.collection
  if (typeof collection !== 'string') throw typeMismatch('collection', 'string', collection)
  const batch = ctx.server.cursors.more(id, `${ctx.db}.${collection}`, optionalInt(command, 'batchSize'))
  if (batch === undefined) throw new CommandError('CursorNotFound', `cursor id ${id} not found`)
  return cursorReply(batch, false)
}

const killCursors: CommandHandler = ctx => {
  targetCollection(ctx)
  const ids: unknown = ctx.command.cursors
  if (!Array.isArray(ids)) throw typeMismatch('cursors', 'array', ids)
  const cursorsKilled: Long[] = []
  const cursorsNotFound: Long[] = []
  for (const value of ids) {
    const id = cursorId(value, 'cursors.item')
    if (ctx.server.cursors.kill(id)) cursorsKilled.push(Long.fromNumber(id))
    else cursorsNotFound.push(Long.fromNumber(id))
  }
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] }
}

export const findCommands: Record<string, CommandHandler> = { find, getMore, killCursors }
