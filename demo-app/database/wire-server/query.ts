/**
 * Everything that touches documents goes through mingo: filters, sort, projection, update
 * operators and aggregation pipelines. This file only adapts MongoDB command arguments to it and
 * turns mingo's exceptions into command errors.
 */
import type { Document } from 'bson'
import { Aggregator, ProcessingMode, Query, find, update as applyModifier, updateOne } from 'mingo'
import { cloneDocument, formatValue, isPlainObject, sameValue, withIdFirst } from './bson-values.js'
import { CommandError, badValue, toCommandError } from './errors.js'

/** Runs `fn`, reporting anything mingo throws as a BadValue (or unknown-stage) command error. */
export function mingo<T> (fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw toCommandError(error)
  }
}

export function asFilter (value: unknown, field = 'filter'): Document {
  if (value === undefined || value === null) return {}
  if (!isPlainObject(value)) throw badValue(`BSON field '${field}' must be an object`)
  return value
}

/** A compiled filter (mingo's Query): true when a document matches. */
export type Matcher = (doc: Document) => boolean

export function compileFilter (filter: Document): Matcher {
  const query = mingo(() => new Query(filter))
  // evaluating can fail too, e.g. { $expr: { $divide: ['$a', 0] } }
  return doc => mingo(() => query.test(doc))
}

/** Sort spec without what mingo does not know (`$natural`, `$meta`), validated like mongod. */
export function normalizeSort (sort: unknown): { sort: Document | undefined, reverse: boolean } {
  if (sort === undefined || sort === null) return { sort: undefined, reverse: false }
  if (!isPlainObject(sort)) throw badValue('Expected field sort to be of type object')
  const out: Document = {}
  let reverse = false
  for (const [field, direction] of Object.entries(sort)) {
    if (field === '$natural') {
      reverse = direction === -1
      continue
    }
    if (isPlainObject(direction) && '$meta' in direction) continue
    if (direction !== 1 && direction !== -1) {
      throw badValue(`$sort key ordering must be 1 (for ascending) or -1 (for descending), got ${String(direction)} for ${field}`)
    }
    out[field] = direction
  }
  return { sort: Object.keys(out).length > 0 ? out : undefined, reverse }
}

export interface FindSpec {
  filter?: unknown
  sort?: unknown
  projection?: unknown
  skip?: unknown
  limit?: unknown
}

function integer (value: unknown, field: string): number {
  if (value === undefined || value === null) return 0
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badValue(`BSON field '${field}' must be an integer`)
  return value
}

/** The documents of a find (stored documents are never mutated in place, so results are stable snapshots). */
export function findDocuments (source: Iterable<Document>, spec: FindSpec): Document[] {
  const filter = asFilter(spec.filter)
  const { sort, reverse } = normalizeSort(spec.sort)
  const skip = integer(spec.skip, 'skip')
  if (skip < 0) throw badValue(`skip must be non-negative, but received: ${skip}`)
  // a negative limit is the legacy "single batch" limit
  const limit = Math.abs(integer(spec.limit, 'limit'))
  const docs = mingo(() => {
    const all = Array.from(source)
    const cursor = find(reverse ? all.reverse() : all, filter)
    if (sort !== undefined) cursor.sort(sort)
    if (skip > 0) cursor.skip(skip)
    if (limit > 0) cursor.limit(limit)
    return cursor.all() as Document[]
  })
  return project(docs, spec.projection)
}

/**
 * Documents through a find projection (mingo), in mongod's field order: each document's own
 * order, computed fields after.
 */
export function project (docs: Document[], projection: unknown): Document[] {
  if (projection === undefined || projection === null) return docs
  const spec = asFilter(projection, 'projection')
  if (Object.keys(spec).length === 0) return docs
  const projected = mingo(() => find(docs, {}, spec).all() as Document[])
  return projected.map((out, i) => {
    const ordered: Document = {}
    for (const key of Object.keys(docs[i] as Document)) if (key in out) ordered[key] = out[key]
    return Object.assign(ordered, out)
  })
}

/** Runs an aggregation pipeline; `$lookup` and friends resolve collections of the same database. */
export function aggregate (source: Iterable<Document>, pipeline: Document[], resolve: (name: string) => Document[]): Document[] {
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0]
    if (name === '$out' || name === '$merge') {
      throw new CommandError('Location40324', `${name} is not supported by this in-memory server`)
    }
  }
  return mingo(() => new Aggregator(pipeline, {
    processingMode: ProcessingMode.CLONE_INPUT,
    collectionResolver: resolve
  }).run(Array.from(source)) as Document[])
}

/** A checked update: a replacement document, update operators, or an aggregation pipeline. */
export type UpdateSpec =
  | { readonly kind: 'replacement', readonly doc: Document }
  | { readonly kind: 'operators', readonly doc: Document }
  | { readonly kind: 'pipeline', readonly stages: Document[] }

export function checkUpdateSpec (update: unknown): UpdateSpec {
  if (Array.isArray(update)) {
    if (!update.every(isPlainObject)) throw new CommandError('FailedToParse', 'Each element of the update pipeline must be an object')
    return { kind: 'pipeline', stages: update }
  }
  if (!isPlainObject(update)) throw new CommandError('FailedToParse', 'Update argument must be either an object or an array')
  const keys = Object.keys(update)
  if (keys[0]?.startsWith('$') === true) {
    const plain = keys.find(key => !key.startsWith('$'))
    if (plain !== undefined) throw new CommandError('FailedToParse', `Unknown modifier: ${plain}. Expected a valid update modifier or pipeline-style update specified as an array`)
    return { kind: 'operators', doc: update }
  }
  const operator = keys.find(key => key.startsWith('$'))
  if (operator !== undefined) throw new CommandError('FailedToParse', `The dollar ($) prefixed field '${operator}' in '${operator}' is not allowed in the context of an update's replacement document.`)
  return { kind: 'replacement', doc: update }
}

export interface UpdateOutcome {
  doc: Document
  modified: boolean
}

function immutableId (): CommandError {
  return new CommandError('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'")
}

/**
 * Applies an update to a copy of `doc` (the stored document is never touched, which keeps cursors
 * stable and lets a unique-index violation leave the collection unchanged).
 * `inserting` is true for the document an upsert creates, where `$setOnInsert` applies.
 */
export function applyUpdate (doc: Document, update: UpdateSpec, options: { filter: Document, arrayFilters?: unknown, inserting?: boolean }): UpdateOutcome {
  if (update.kind === 'replacement') {
    const { _id: id, ...rest } = update.doc
    if (id !== undefined && !sameValue(id, doc._id)) {
      throw new CommandError('ImmutableField', `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(id)}`)
    }
    const next = { _id: doc._id, ...rest }
    return { doc: next, modified: !sameValue(next, doc) }
  }
  const arrayFilters = options.arrayFilters === undefined ? undefined : checkArrayFilters(options.arrayFilters)
  let modifier: Document | Document[] = update.kind === 'pipeline' ? update.stages : update.doc
  if (update.kind === 'operators' && '$setOnInsert' in update.doc) {
    const { $setOnInsert, ...others } = update.doc
    modifier = options.inserting === true ? { ...others, $set: { ...asFilter($setOnInsert, '$setOnInsert'), ...others.$set } } : others
    if (Object.keys(modifier).length === 0) return { doc, modified: false }
  }
  const docs = [cloneDocument(doc)]
  const condition = options.inserting === true ? {} : options.filter
  const result = mingo(() => updateOne(docs, condition, modifier as Parameters<typeof updateOne>[2], { arrayFilters, cloneMode: 'copy' }))
  const next = docs[0] as Document
  if (options.inserting !== true && !sameValue(next._id, doc._id)) throw immutableId()
  return { doc: next, modified: result.modifiedCount > 0 }
}

function checkArrayFilters (value: unknown): Document[] {
  if (!Array.isArray(value) || !value.every(isPlainObject)) throw new CommandError('FailedToParse', 'arrayFilters must be an array of objects')
  return value
}

/** The document an upsert starts from: the equality conditions of its filter (`{ a: 1, 'b.c': 2, $and: [...] }`). */
export function upsertSeed (filter: Document): Document {
  const { _id: id, ...set } = collectEqualities(filter, {})
  // mingo refuses to $set _id (immutable), so it goes in directly
  const seed: Document = id === undefined ? {} : { _id: id }
  if (Object.keys(set).length > 0) mingo(() => applyModifier(seed, { $set: set }))
  return seed
}

function collectEqualities (filter: Document, into: Document): Document {
  for (const [field, value] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(value)) {
      for (const clause of value) if (isPlainObject(clause)) collectEqualities(clause, into)
      continue
    }
    if (field.startsWith('$')) continue
    if (isPlainObject(value) && Object.keys(value).some(key => key.startsWith('$'))) {
      if ('$eq' in value) into[field] = value.$eq
      continue
    }
    into[field] = value
  }
  return into
}

/** The document an upsert inserts. */
export function upsertDocument (filter: Document, update: UpdateSpec, arrayFilters: unknown): Document {
  const seed = upsertSeed(filter)
  if (update.kind === 'replacement') {
    const { _id: id, ...rest } = update.doc
    return withIdFirst({ _id: id ?? seed._id, ...rest })
  }
  return withIdFirst(applyUpdate(seed, update, { filter, arrayFilters, inserting: true }).doc)
}
