import type { CommandHandler } from '../context.js'
import { CommandError } from '../errors.js'
import { asFilter, compileFilter } from '../query.js'
import { runStatements, targetCollection, withWriteErrors, writeBatch } from './common.js'

/** delete: `{ q, limit: 0 | 1 }` statements; replies `{ n }`. */
const remove: CommandHandler = ctx => {
  const name = targetCollection(ctx)
  const statements = writeBatch(ctx.command, 'deletes')
  let n = 0
  const writeErrors = runStatements(ctx, statements, statement => {
    const limit: unknown = statement.limit ?? 0
    if (limit !== 0 && limit !== 1) throw new CommandError('FailedToParse', `The limit field in delete objects must be 0 or 1. Got ${String(limit)}`)
    const matches = compileFilter(asFilter(statement.q, 'q'))
    const collection = ctx.server.storage.collection(ctx.db, name)
    if (collection === undefined) return
    for (const doc of [...collection.docs.values()]) {
      if (!matches(doc)) continue
      collection.remove(doc)
      n++
      if (limit === 1) break
    }
  })
  return withWriteErrors({ n }, writeErrors)
}

export const deleteCommands: Record<string, CommandHandler> = { delete: remove }
