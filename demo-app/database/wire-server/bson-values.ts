import { BSON, ObjectId, type Document } from 'bson'

/** Options used to read every incoming document: promote Int32/Int64/Double to JS numbers so mingo can compare them. */
export const DESERIALIZE_OPTIONS: BSON.DeserializeOptions = { promoteValues: true, promoteLongs: true, bsonRegExp: false }
/** Options used for every outgoing document. */
export const SERIALIZE_OPTIONS: BSON.SerializeOptions = { checkKeys: false, ignoreUndefined: true }

export function isPlainObject (value: unknown): value is Document {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** The BSON class of a value ('ObjectId', 'Long', 'Decimal128', 'Binary'...), undefined for plain values. */
function bsonTypeOf (value: object): string | undefined {
  return (value as { _bsontype?: string })._bsontype
}

/**
 * A string that is equal for two values exactly when MongoDB considers them equal as index keys
 * (numbers of any width compare by value, documents by ordered fields). Used for unique indexes,
 * `_id` lookups and `distinct`. Values are what BSON.deserialize produces.
 */
export function canonicalKey (value: unknown): string {
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'number') return `n:${Object.is(value, -0) ? 0 : value}`
  if (typeof value === 'string') return `s:${JSON.stringify(value)}`
  if (typeof value !== 'object') return String(value)
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`
  if (value instanceof Date) return `d:${value.getTime()}`
  if (value instanceof RegExp) return `r:${value.source}/${value.flags}`
  const bsonType = bsonTypeOf(value)
  if (bsonType === 'ObjectId') return `o:${(value as ObjectId).toHexString()}`
  // a Long beyond 2^53 (smaller ones arrive as numbers), a Decimal128
  if (bsonType === 'Long' || bsonType === 'Decimal128') return `n:${Number(value.toString())}`
  if (bsonType !== undefined) return `${bsonType}:${JSON.stringify(BSON.EJSON.serialize(value as Document))}`
  let out = '{'
  for (const [k, v] of Object.entries(value)) out += `${JSON.stringify(k)}:${canonicalKey(v)},`
  return `${out}}`
}

/** A value as the server prints it in messages, e.g. `{ email: "a@b.c" }` or `ObjectId('...')`. */
export function formatValue (value: unknown): string {
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value !== 'object') return String(value)
  if (Array.isArray(value)) return `[ ${value.map(formatValue).join(', ')} ]`
  if (value instanceof Date) return `new Date(${value.getTime()})`
  if (bsonTypeOf(value) === 'ObjectId') return `ObjectId('${(value as ObjectId).toHexString()}')`
  if (!isPlainObject(value)) return String(value)
  const entries = Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`)
  return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`
}

/** A deep copy that keeps BSON classes (structuredClone would turn an ObjectId into a plain object). */
export function cloneDocument (doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc, SERIALIZE_OPTIONS), DESERIALIZE_OPTIONS)
}

/** Whether two values are the same for MongoDB (`_id` immutability, modified counts). */
export function sameValue (a: unknown, b: unknown): boolean {
  return canonicalKey(a) === canonicalKey(b)
}

/** A copy of `doc` with `_id` as its first field, generated when absent (what mongod stores). */
export function withIdFirst (doc: Document): Document {
  if (doc._id !== undefined && Object.keys(doc)[0] === '_id') return doc
  const { _id: id, ...rest } = doc
  return { _id: id === undefined ? new ObjectId() : id, ...rest }
}
