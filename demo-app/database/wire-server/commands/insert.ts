import type { CommandHandler } from '../context.js'
import { writeBatch, runStatements, targetCollection, withWriteErrors } from './common.js'

/** insert: documents get an ObjectId `_id` when they have none; unique indexes answer E11000 write errors. */
const insert: CommandHandler = ctx => {
  const name = targetCollection(ctx)
  const documents = writeBatch(ctx.command, 'documents')
  const { collection } = ctx.server.storage.collectionForWrite(ctx.db, name)
  let n = 0
  const writeErrors = runStatements(ctx, documents, doc => {
    collection.insert(doc)
    n++
  })
  return withWriteErrors({ n }, writeErrors)
}

export const insertCommands: Record<string, CommandHandler> = { insert }
