import type { Document } from 'bson'
import type { CommandHandler } from '../context.js'
import { CommandError } from '../errors.js'
import { applyUpdate, asFilter, checkUpdateSpec, findDocuments, project, upsertDocument } from '../query.js'
import { optionalBool, targetCollection } from './common.js'

function projectOne (doc: Document, fields: unknown): Document {
  return project([doc], fields)[0] as Document
}

/**
 * findAndModify: one document chosen by query + sort, removed or updated (optionally upserted);
 * `value` is the document before (or after, with `new`) the change, projected by `fields`.
 */
const findAndModify: CommandHandler = ctx => {
  const { command } = ctx
  const { storage } = ctx.server
  const name = targetCollection(ctx)
  const filter = asFilter(command.query, 'query')
  const remove = optionalBool(command, 'remove')
  const returnNew = optionalBool(command, 'new')
  const upsert = optionalBool(command, 'upsert')
  if (remove && command.update !== undefined) throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true')
  if (!remove && command.update === undefined) throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified')
  if (remove && (upsert || returnNew)) throw new CommandError('FailedToParse', 'Cannot specify both upsert=true or new=true and remove=true')
  const collection = storage.collection(ctx.db, name)
  const [target] = collection === undefined ? [] : findDocuments(collection.docs.values(), { filter, sort: command.sort, limit: 1 })
  if (remove) {
    if (collection === undefined || target === undefined) return { lastErrorObject: { n: 0 }, value: null }
    collection.remove(target)
    return { lastErrorObject: { n: 1 }, value: projectOne(target, command.fields) }
  }
  const spec = checkUpdateSpec(command.update)
  if (collection !== undefined && target !== undefined) {
    const outcome = applyUpdate(target, spec, { filter, arrayFilters: command.arrayFilters })
    if (outcome.modified) collection.replace(target, outcome.doc)
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: projectOne(returnNew ? outcome.doc : target, command.fields) }
  }
  if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null }
  const stored = storage.collectionForWrite(ctx.db, name).collection.insert(upsertDocument(filter, spec, command.arrayFilters))
  return {
    lastErrorObject: { n: 1, updatedExisting: false, upserted: stored._id },
    value: returnNew ? projectOne(stored, command.fields) : null
  }
}

export const findAndModifyCommands: Record<string, CommandHandler> = { findAndModify, findandmodify: findAndModify }
