import type { Document } from 'bson'
import type { CommandHandler } from '../context.js'
import { CommandError } from '../errors.js'
import { ID_INDEX_NAME } from '../indexes.js'
import { asFilter, findDocuments } from '../query.js'
import { cursorBatchSize, openCursor, optionalBool, targetCollection } from './common.js'

/** Fields every command may carry; they are not collection options. */
const GENERIC_FIELDS = new Set([
  'lsid', '$db', '$readPreference', '$clusterTime', 'txnNumber', 'autocommit', 'startTransaction',
  'writeConcern', 'readConcern', 'comment', 'maxTimeMS', 'apiVersion', 'apiStrict', 'apiDeprecationErrors'
])

const create: CommandHandler = ctx => {
  const name = targetCollection(ctx)
  const { storage } = ctx.server
  if (storage.collection(ctx.db, name) !== undefined) {
    throw new CommandError('NamespaceExists', `Collection ${ctx.db}.${name} already exists.`)
  }
  const options: Document = {}
  for (const [field, value] of Object.entries(ctx.command)) {
    if (field !== 'create' && !GENERIC_FIELDS.has(field)) options[field] = value
  }
  storage.collectionForWrite(ctx.db, name, options)
  return {}
}

/** listCollections: `filter` applies to the descriptions below (e.g. `{ name: 'posts' }`), `nameOnly` trims them. */
const listCollections: CommandHandler = ctx => {
  const { command } = ctx
  const nameOnly = optionalBool(command, 'nameOnly')
  const database = ctx.server.storage.databases.get(ctx.db)
  const descriptions: Document[] = [...(database?.collections.values() ?? [])].map(collection => nameOnly
    ? { name: collection.name, type: 'collection' }
    : {
        name: collection.name,
        type: 'collection',
        options: collection.options,
        info: { readOnly: false, uuid: collection.uuid },
        idIndex: { v: 2, key: { _id: 1 }, name: ID_INDEX_NAME }
      })
  const filter = asFilter(command.filter)
  const docs = Object.keys(filter).length === 0 ? descriptions : findDocuments(descriptions, { filter })
  return openCursor(ctx, `${ctx.db}.$cmd.listCollections`, docs, cursorBatchSize(command))
}

/** drop: like MongoDB 7.0, dropping a collection that does not exist succeeds. */
const drop: CommandHandler = ctx => {
  const name = targetCollection(ctx)
  const { storage, cursors } = ctx.server
  const dropped = storage.dropCollection(ctx.db, name)
  if (dropped === undefined) return {}
  cursors.killWhere(cursor => cursor.ns === dropped.ns)
  return { nIndexesWas: dropped.indexes.size, ns: dropped.ns }
}

export const collectionCommands: Record<string, CommandHandler> = { create, listCollections, drop }
