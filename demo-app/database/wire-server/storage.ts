import { UUID, type Document } from 'bson'
import { canonicalKey, formatValue, isPlainObject, withIdFirst } from './bson-values.js'
import { CommandError } from './errors.js'
import { ID_INDEX_NAME, Index, duplicateKeyError } from './indexes.js'

// https://www.mongodb.com/docs/manual/reference/limits/#naming-restrictions
const INVALID_DB_CHARS = /[/\\. "$\0]/

export function checkDatabaseName (name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length >= 64 || INVALID_DB_CHARS.test(name)) {
    throw new CommandError('InvalidNamespace', `Invalid database name: '${String(name)}'`)
  }
  return name
}

export function checkCollectionName (db: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('$') || name.includes('\0') || name.startsWith('.') || name.startsWith('system.')) {
    throw new CommandError('InvalidNamespace', `Invalid namespace specified '${db}.${String(name)}'`)
  }
  return name
}

function checkId (id: unknown): void {
  if (Array.isArray(id)) throw new CommandError('BadValue', 'The \'_id\' value cannot be of type array')
  if (id instanceof RegExp) throw new CommandError('BadValue', 'The \'_id\' value cannot be of type regex')
}

/** An in-memory collection: documents in natural (insertion) order, keyed by their canonical `_id`. */
export class Collection {
  readonly docs = new Map<string, Document>()
  readonly indexes = new Map<string, Index>()
  readonly uuid = new UUID()
  private uniqueIndexes: Index[] = []

  constructor (readonly db: string, readonly name: string, readonly options: Document = {}) {
    this.indexes.set(ID_INDEX_NAME, new Index({ key: { _id: 1 }, name: ID_INDEX_NAME }))
  }

  get ns (): string {
    return `${this.db}.${this.name}`
  }

  /** Stores a new document (`_id` generated when missing) and returns it. */
  insert (input: Document): Document {
    const doc = withIdFirst(input)
    checkId(doc._id)
    const id = canonicalKey(doc._id)
    if (this.docs.has(id)) throw duplicateKeyError(this.ns, this.indexes.get(ID_INDEX_NAME) as Index, { _id: doc._id })
    const keys = this.uniqueIndexes.map(index => ({ index, entries: index.entriesFor(doc) }))
    for (const { index, entries } of keys) index.checkUnique(this.ns, entries, id)
    for (const { index, entries } of keys) index.add(entries, id)
    this.docs.set(id, doc)
    return doc
  }

  /** Replaces a stored document by a new version with the same `_id`, keeping unique indexes right. */
  replace (current: Document, next: Document): void {
    const id = canonicalKey(current._id)
    const keys = this.uniqueIndexes.map(index => ({ index, before: index.entriesFor(current), after: index.entriesFor(next) }))
    for (const { index, after } of keys) index.checkUnique(this.ns, after, id)
    for (const { index, before, after } of keys) {
      index.remove(before, id)
      index.add(after, id)
    }
    this.docs.set(id, next)
  }

  remove (doc: Document): void {
    const id = canonicalKey(doc._id)
    for (const index of this.uniqueIndexes) index.remove(index.entriesFor(doc), id)
    this.docs.delete(id)
  }

  /**
   * Adds an index. Returns false when the very same index already exists; throws on a name or key
   * conflict, or E11000 when existing documents violate a new unique index.
   */
  createIndex (spec: Document): boolean {
    const index = new Index(spec)
    const sameName = this.indexes.get(index.name)
    if (sameName !== undefined) {
      if (sameName.sameAs(index)) return false
      throw new CommandError(
        sameName.sameKeyAs(index) ? 'IndexOptionsConflict' : 'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index. Requested index: ${formatValue(index.spec)}, existing index: ${formatValue(sameName.spec)}`
      )
    }
    const sameKey = [...this.indexes.values()].find(existing => existing.sameKeyAs(index))
    if (sameKey !== undefined) throw new CommandError('IndexOptionsConflict', `Index already exists with a different name: ${sameKey.name}`)
    if (index.unique) {
      for (const [id, doc] of this.docs) {
        const entries = index.entriesFor(doc)
        index.checkUnique(this.ns, entries, id)
        index.add(entries, id)
      }
    }
    this.indexes.set(index.name, index)
    this.refreshIndexes()
    return true
  }

  /** Drops one index by name or key pattern; returns the name dropped. */
  dropIndex (nameOrKey: unknown): string {
    let index: Index | undefined
    if (typeof nameOrKey === 'string') {
      index = this.indexes.get(nameOrKey)
      if (index === undefined) throw new CommandError('IndexNotFound', `index not found with name [${nameOrKey}]`)
    } else if (isPlainObject(nameOrKey)) {
      const key = canonicalKey(nameOrKey)
      index = [...this.indexes.values()].find(candidate => canonicalKey(candidate.key) === key)
      if (index === undefined) throw new CommandError('IndexNotFound', `can't find index with key: ${JSON.stringify(nameOrKey)}`)
    } else {
      throw new CommandError('TypeMismatch', 'index must be a string, an object or an array of strings')
    }
    if (index.name === ID_INDEX_NAME) throw new CommandError('InvalidOptions', 'cannot drop _id index')
    this.indexes.delete(index.name)
    this.refreshIndexes()
    return index.name
  }

  dropAllIndexes (): void {
    for (const name of this.indexes.keys()) if (name !== ID_INDEX_NAME) this.indexes.delete(name)
    this.refreshIndexes()
  }

  private refreshIndexes (): void {
    this.uniqueIndexes = [...this.indexes.values()].filter(index => index.unique)
  }
}

/** A database: a namespace of collections. It exists as long as it has a collection, like in mongod. */
export class Database {
  readonly collections = new Map<string, Collection>()

  constructor (readonly name: string) {}
}

export class Storage {
  readonly databases = new Map<string, Database>()

  collection (db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.collections.get(name)
  }

  /** The collection, created (with its database) on first write like mongod does. */
  collectionForWrite (db: string, name: string, options?: Document): { collection: Collection, created: boolean } {
    const existing = this.collection(db, name)
    if (existing !== undefined) return { collection: existing, created: false }
    checkCollectionName(db, name)
    let database = this.databases.get(db)
    if (database === undefined) {
      database = new Database(db)
      this.databases.set(db, database)
    }
    const collection = new Collection(db, name, options)
    database.collections.set(name, collection)
    return { collection, created: true }
  }

  dropCollection (db: string, name: string): Collection | undefined {
    const database = this.databases.get(db)
    const collection = database?.collections.get(name)
    if (database === undefined || collection === undefined) return undefined
    database.collections.delete(name)
    if (database.collections.size === 0) this.databases.delete(db)
    return collection
  }

  dropDatabase (db: string): boolean {
    return this.databases.delete(db)
  }
}
