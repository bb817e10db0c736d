import type { Document } from 'bson'
import { canonicalKey } from '../bson-values.js'
import type { CommandHandler } from '../context.js'
import { CommandError, typeMismatch } from '../errors.js'
import { valuesAtPath } from '../indexes.js'
import { aggregate as runPipeline, asFilter, compileFilter, findDocuments } from '../query.js'
import { cursorBatchSize, openCursor, optionalInt, requireDocuments, targetCollection } from './common.js'

/** aggregate: the pipeline runs in mingo; `$lookup`/`$unionWith`/`$graphLookup` see the same database. */
const aggregate: CommandHandler = ctx => {
  const { command } = ctx
  const { storage } = ctx.server
  if (typeof command.aggregate !== 'string') {
    throw new CommandError('InvalidNamespace', 'database-level aggregation ({ aggregate: 1 }) is not supported by this in-memory server')
  }
  const name = targetCollection(ctx)
  const pipeline = requireDocuments(command, 'pipeline')
  if (command.explain !== undefined) throw new CommandError('BadValue', 'explain is not supported by this in-memory server')
  if (command.cursor === undefined) throw new CommandError('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument")
  const batchSize = cursorBatchSize(command)
  const source = storage.collection(ctx.db, name)?.docs.values() ?? []
  const docs = runPipeline(source, pipeline, other => Array.from(storage.collection(ctx.db, other)?.docs.values() ?? []))
  return openCursor(ctx, `${ctx.db}.${name}`, docs, batchSize)
}

/** count: used by estimatedDocumentCount (countDocuments is an aggregate). */
const count: CommandHandler = ctx => {
  const { command } = ctx
  const collection = ctx.server.storage.collection(ctx.db, targetCollection(ctx))
  const filter = asFilter(command.query, 'query')
  const skip = optionalInt(command, 'skip') ?? 0
  const limit = optionalInt(command, 'limit') ?? 0
  if (collection === undefined) return { n: 0 }
  if (Object.keys(filter).length === 0 && skip === 0 && limit === 0) return { n: collection.docs.size }
  return { n: findDocuments(collection.docs.values(), { filter, skip, limit }).length }
}

/** distinct: array values count element by element, missing fields are left out, like mongod. */
const distinct: CommandHandler = ctx => {
  const { command } = ctx
  const collection = ctx.server.storage.collection(ctx.db, targetCollection(ctx))
  const key: unknown = command.key
  if (typeof key !== 'string') throw typeMismatch('key', 'string', key)
  const matches = compileFilter(asFilter(command.query, 'query'))
  const path = key.split('.')
  const seen = new Set<string>()
  const values: unknown[] = []
  for (const doc of collection?.docs.values() ?? []) {
    if (!matches(doc)) continue
    for (const value of valuesAtPath(doc, path)) {
      if (value === undefined) continue
      const canonical = canonicalKey(value)
      if (seen.has(canonical)) continue
      seen.add(canonical)
      values.push(value)
    }
  }
  return { values } satisfies Document
}

export const aggregateCommands: Record<string, CommandHandler> = { aggregate, count, distinct }
