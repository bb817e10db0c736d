import { BSON, Long, type Document } from 'bson'
import { SERIALIZE_OPTIONS } from './bson-values.js'

/** mongod's default for the first batch of find/aggregate when no batchSize is given. */
export const DEFAULT_FIRST_BATCH = 101
/** A batch stays under this many bytes of documents, so the reply stays under maxBsonObjectSize. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024

interface Cursor {
  readonly id: number
  readonly ns: string
  readonly db: string
  readonly docs: Document[]
  position: number
  lastUsed: number
  readonly session: string | undefined
}

export interface Batch {
  /** 0 when the cursor is exhausted (or was never opened) */
  readonly id: Long
  readonly ns: string
  readonly docs: Document[]
}

/**
 * Open cursors over materialised results. Ids are positive integers below 2^53 sent as BSON Int64.
 * One shared timer (not one per cursor) reaps cursors idle longer than `idleTimeoutMS`, like
 * mongod's cursorTimeoutMillis.
 */
export class CursorManager {
  private readonly cursors = new Map<number, Cursor>()
  private nextId = 1 + Math.floor(Math.random() * 2 ** 40)
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly idleTimeoutMS = 10 * 60_000) {}

  get size (): number {
    return this.cursors.size
  }

  start (): void {
    this.timer ??= setInterval(() => this.reap(Date.now()), Math.min(60_000, this.idleTimeoutMS)).unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.cursors.clear()
  }

  /** Kills cursors idle since before `now - idleTimeoutMS`. */
  reap (now: number): number {
    let killed = 0
    for (const cursor of this.cursors.values()) {
      if (now - cursor.lastUsed > this.idleTimeoutMS) {
        this.cursors.delete(cursor.id)
        killed++
      }
    }
    return killed
  }

  /** First batch of a new result; a cursor is kept only when documents remain. */
  open (options: { ns: string, db: string, docs: Document[], batchSize: number | undefined, singleBatch: boolean, session: string | undefined }): Batch {
    const { ns, docs } = options
    const size = options.batchSize ?? DEFAULT_FIRST_BATCH
    const first = takeBatch(docs, 0, size === 0 && options.singleBatch ? undefined : size)
    if (options.singleBatch || first.length >= docs.length) return { id: Long.ZERO, ns, docs: first }
    const id = this.nextId++
    this.cursors.set(id, { id, ns, db: options.db, docs, position: first.length, lastUsed: Date.now(), session: options.session })
    return { id: Long.fromNumber(id), ns, docs: first }
  }

  /** Next batch of an open cursor, or undefined when there is no such cursor. */
  more (id: number, ns: string, batchSize: number | undefined): Batch | undefined {
    const cursor = this.cursors.get(id)
    if (cursor === undefined || cursor.ns !== ns) return undefined
    const docs = takeBatch(cursor.docs, cursor.position, batchSize === 0 ? undefined : batchSize)
    cursor.position += docs.length
    cursor.lastUsed = Date.now()
    if (cursor.position >= cursor.docs.length) {
      this.cursors.delete(id)
      return { id: Long.ZERO, ns, docs }
    }
    return { id: Long.fromNumber(id), ns, docs }
  }

  kill (id: number): boolean {
    return this.cursors.delete(id)
  }

  killWhere (predicate: (cursor: { ns: string, db: string, session: string | undefined }) => boolean): void {
    for (const cursor of this.cursors.values()) if (predicate(cursor)) this.cursors.delete(cursor.id)
  }
}

/** Up to `count` documents from `position` (all remaining when undefined), within MAX_BATCH_BYTES. */
function takeBatch (docs: Document[], position: number, count: number | undefined): Document[] {
  const end = count === undefined ? docs.length : Math.min(docs.length, position + count)
  let bytes = 0
  let i = position
  for (; i < end; i++) {
    bytes += BSON.calculateObjectSize(docs[i] as Document, SERIALIZE_OPTIONS)
    if (bytes > MAX_BATCH_BYTES && i > position) break
  }
  return docs.slice(position, i)
}
