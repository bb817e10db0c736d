import { BSON, type Document } from 'bson'
import { SERIALIZE_OPTIONS } from '../bson-values.js'
import type { CommandHandler } from '../context.js'
import { CommandError } from '../errors.js'
import { asFilter, findDocuments } from '../query.js'
import type { Database } from '../storage.js'
import { optionalBool } from './common.js'

const dropDatabase: CommandHandler = ctx => {
  ctx.server.cursors.killWhere(cursor => cursor.db === ctx.db)
  ctx.server.storage.dropDatabase(ctx.db)
  return { dropped: ctx.db }
}

function sizeOf (database: Database): number {
  let size = 0
  for (const collection of database.collections.values()) {
    for (const doc of collection.docs.values()) size += BSON.calculateObjectSize(doc, SERIALIZE_OPTIONS)
  }
  return size
}

/** listDatabases: every database holding at least one collection; sizes are BSON sizes of the documents. */
const listDatabases: CommandHandler = ctx => {
  if (ctx.db !== 'admin') throw new CommandError('Unauthorized', 'listDatabases may only be run against the admin database.')
  const nameOnly = optionalBool(ctx.command, 'nameOnly')
  let totalSize = 0
  let databases: Document[] = [...ctx.server.storage.databases.values()].map(database => {
    if (nameOnly) return { name: database.name }
    const sizeOnDisk = sizeOf(database)
    totalSize += sizeOnDisk
    return { name: database.name, sizeOnDisk, empty: sizeOnDisk === 0 }
  })
  const filter = asFilter(ctx.command.filter)
  if (Object.keys(filter).length > 0) databases = findDocuments(databases, { filter })
  return nameOnly ? { databases } : { databases, totalSize, totalSizeMb: Math.floor(totalSize / 1024 / 1024) }
}

export const databaseCommands: Record<string, CommandHandler> = { dropDatabase, listDatabases }
