import type { Document } from 'bson'
import type { CommandHandler } from '../context.js'
import { CommandError } from '../errors.js'
import { applyUpdate, asFilter, checkUpdateSpec, compileFilter, upsertDocument } from '../query.js'
import { optionalBool, runStatements, targetCollection, withWriteErrors, writeBatch } from './common.js'

/**
 * update: operators (via mingo), replacement documents, pipelines, upsert, multi, arrayFilters.
 * Replies `{ n, nModified, upserted: [{ index, _id }], writeErrors }` like mongod: `n` counts
 * matched plus upserted documents, `nModified` only the documents that really changed.
 */
const update: CommandHandler = ctx => {
  const { storage } = ctx.server
  const name = targetCollection(ctx)
  const statements = writeBatch(ctx.command, 'updates')
  let n = 0
  let nModified = 0
  const upserted: Document[] = []
  const writeErrors = runStatements(ctx, statements, (statement, index) => {
    const filter = asFilter(statement.q, 'q')
    const spec = checkUpdateSpec(statement.u)
    const multi = optionalBool(statement, 'multi')
    if (multi && spec.kind === 'replacement') throw new CommandError('FailedToParse', 'multi update is not supported for replacement-style update')
    const matches = compileFilter(filter)
    const collection = storage.collection(ctx.db, name)
    const targets: Document[] = []
    for (const doc of collection?.docs.values() ?? []) {
      if (!matches(doc)) continue
      targets.push(doc)
      if (!multi) break
    }
    for (const doc of targets) {
      const outcome = applyUpdate(doc, spec, { filter, arrayFilters: statement.arrayFilters })
      if (outcome.modified) {
        collection?.replace(doc, outcome.doc)
        nModified++
      }
      n++
    }
    if (targets.length === 0 && optionalBool(statement, 'upsert')) {
      const doc = upsertDocument(filter, spec, statement.arrayFilters)
      const stored = storage.collectionForWrite(ctx.db, name).collection.insert(doc)
      upserted.push({ index, _id: stored._id })
      n++
    }
  })
  return withWriteErrors({ n, nModified, ...(upserted.length > 0 ? { upserted } : {}) }, writeErrors)
}

export const updateCommands: Record<string, CommandHandler> = { update }
