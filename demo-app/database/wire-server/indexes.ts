import type { Document } from 'bson'
import { canonicalKey, formatValue, isPlainObject } from './bson-values.js'
import { CommandError } from './errors.js'
import { compileFilter, type Matcher } from './query.js'

export const ID_INDEX_NAME = '_id_'

/** The values a (possibly dotted) path takes in a document, one per array element like a multikey index. */
export function valuesAtPath (value: unknown, path: readonly string[], depth = 0): unknown[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return depth === path.length ? [undefined] : []
    return value.flatMap(element => valuesAtPath(element, path, depth))
  }
  if (depth === path.length) return [value]
  if (!isPlainObject(value)) return [undefined]
  const segment = path[depth] as string
  return valuesAtPath(value[segment], path, depth + 1)
}

export function defaultIndexName (key: Document): string {
  return Object.entries(key).map(([field, direction]) => `${field}_${String(direction)}`).join('_')
}

/** What makes two index specs the same index (`background` is only a build hint, ignored since 4.2). */
function comparable (spec: Document): string {
  const { background: _background, ...rest } = spec
  return canonicalKey(rest)
}

interface IndexEntry {
  /** canonical form of the key tuple */
  readonly key: string
  /** the key as shown in E11000 messages, e.g. { email: "a@b.c" } */
  readonly value: Document
}

/**
 * One index of a collection. Only unique indexes keep entries (to enforce uniqueness); queries
 * scan the collection, so other indexes are just remembered for listIndexes. The `_id_` index is
 * not `unique` here: the collection's document map (keyed by `_id`) enforces it.
 */
export class Index {
  readonly name: string
  readonly key: Document
  readonly unique: boolean
  readonly sparse: boolean
  /** the spec as listIndexes shows it */
  readonly spec: Document
  /** unique indexes only: canonical key → canonical _id of the document holding it */
  readonly entries = new Map<string, string>()
  private readonly paths: Array<readonly string[]>
  private readonly partial: Matcher | undefined

  constructor (spec: Document) {
    const { key, name, v: _v, ns: _ns, ...options } = spec
    if (!isPlainObject(key) || Object.keys(key).length === 0) {
      throw new CommandError('FailedToParse', `Error in specification ${formatValue(spec)} :: caused by :: The 'key' field must be a non-empty object`)
    }
    if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
      throw new CommandError('FailedToParse', `Error in specification ${formatValue(spec)} :: caused by :: The 'name' field must be a non-empty string`)
    }
    this.key = key
    this.name = name ?? defaultIndexName(key)
    this.unique = options.unique === true
    this.sparse = options.sparse === true
    this.paths = Object.keys(key).map(field => field.split('.'))
    const partial = options.partialFilterExpression
    this.partial = isPlainObject(partial) ? compileFilter(partial) : undefined
    this.spec = { v: 2, key, name: this.name, ...options }
  }

  /** Same key pattern and same options (what createIndexes treats as "already exists"). */
  sameAs (other: Index): boolean {
    return comparable(this.spec) === comparable(other.spec)
  }

  sameKeyAs (other: Index): boolean {
    return canonicalKey(this.key) === canonicalKey(other.key)
  }

  /** The key tuples of a document, or [] when the document is not in this index (sparse, partial). */
  entriesFor (doc: Document): IndexEntry[] {
    if (this.partial !== undefined && !this.partial(doc)) return []
    const fields = Object.keys(this.key)
    const perField = this.paths.map(path => valuesAtPath(doc, path))
    if (this.sparse && perField.every(values => values.every(value => value === undefined))) return []
    let tuples: unknown[][] = [[]]
    for (const values of perField) {
      tuples = tuples.flatMap(tuple => values.map(value => [...tuple, value ?? null]))
    }
    const seen = new Set<string>()
    const out: IndexEntry[] = []
    for (const tuple of tuples) {
      const key = canonicalKey(tuple)
      if (seen.has(key)) continue
      seen.add(key)
      const value: Document = {}
      fields.forEach((field, i) => { value[field] = tuple[i] })
      out.push({ key, value })
    }
    return out
  }

  // checkUnique, add and remove are only used on unique indexes

  /** Throws E11000 when a document other than `ownerId` already holds one of these keys. */
  checkUnique (ns: string, entries: readonly IndexEntry[], ownerId: string): void {
    for (const entry of entries) {
      const owner = this.entries.get(entry.key)
      if (owner !== undefined && owner !== ownerId) throw duplicateKeyError(ns, this, entry.value)
    }
  }

  add (entries: readonly IndexEntry[], ownerId: string): void {
    for (const entry of entries) this.entries.set(entry.key, ownerId)
  }

  remove (entries: readonly IndexEntry[], ownerId: string): void {
    for (const entry of entries) {
      if (this.entries.get(entry.key) === ownerId) this.entries.delete(entry.key)
    }
  }
}

export function duplicateKeyError (ns: string, index: Index, keyValue: Document): CommandError {
  return new CommandError(
    'DuplicateKey',
    `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: ${formatValue(keyValue)}`,
    { keyPattern: index.key, keyValue }
  )
}
