import type { CommandHandler } from '../context.js'
import { CommandError } from '../errors.js'
import { cursorBatchSize, openCursor, requireDocuments, targetCollection } from './common.js'

function notFound (ns: string): CommandError {
  return new CommandError('NamespaceNotFound', `ns does not exist: ${ns}`)
}

/** createIndexes: creates the collection if needed; unique indexes are enforced from then on. */
const createIndexes: CommandHandler = ctx => {
  const name = targetCollection(ctx)
  const specs = requireDocuments(ctx.command, 'indexes')
  if (specs.length === 0) throw new CommandError('BadValue', 'Must specify at least one index to create')
  const { collection, created } = ctx.server.storage.collectionForWrite(ctx.db, name)
  const numIndexesBefore = collection.indexes.size
  for (const spec of specs) collection.createIndex(spec)
  const numIndexesAfter = collection.indexes.size
  return {
    numIndexesBefore,
    numIndexesAfter,
    createdCollectionAutomatically: created,
    ...(numIndexesAfter === numIndexesBefore ? { note: 'all indexes already exist' } : {})
  }
}

const listIndexes: CommandHandler = ctx => {
  const name = targetCollection(ctx)
  const collection = ctx.server.storage.collection(ctx.db, name)
  if (collection === undefined) throw notFound(`${ctx.db}.${name}`)
  const specs = [...collection.indexes.values()].map(index => index.spec)
  return openCursor(ctx, collection.ns, specs, cursorBatchSize(ctx.command))
}

/** dropIndexes: `index` is '*', a name, a key pattern or an array of names. */
const dropIndexes: CommandHandler = ctx => {
  const name = targetCollection(ctx)
  const collection = ctx.server.storage.collection(ctx.db, name)
  if (collection === undefined) throw notFound(`${ctx.db}.${name}`)
  const nIndexesWas = collection.indexes.size
  const target: unknown = ctx.command.index
  if (target === '*') {
    collection.dropAllIndexes()
    return { nIndexesWas, msg: 'non-_id indexes dropped for collection' }
  }
  const targets: unknown[] = Array.isArray(target) ? target : [target]
  for (const one of targets) collection.dropIndex(one)
  return { nIndexesWas }
}

export const indexCommands: Record<string, CommandHandler> = { createIndexes, listIndexes, dropIndexes, deleteIndexes: dropIndexes }
