/**
 * MongoDB wire protocol message codec (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/).
 * Requests: OP_MSG (body + document sequences) and legacy OP_QUERY (the driver's first handshake).
 * Replies: OP_MSG, or OP_REPLY to an OP_QUERY.
 */
import { BSON, type Document } from 'bson'
import { DESERIALIZE_OPTIONS, SERIALIZE_OPTIONS } from './bson-values.js'

export const OP_REPLY = 1
export const OP_QUERY = 2004
export const OP_COMPRESSED = 2012
export const OP_MSG = 2013

export const HEADER_SIZE = 16
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
export const MAX_MESSAGE_SIZE = 48_000_000

export const FLAG_CHECKSUM_PRESENT = 1 << 0
export const FLAG_MORE_TO_COME = 1 << 1
export const FLAG_EXHAUST_ALLOWED = 1 << 16
/** OP_MSG bits 0-15 are "required": a receiver must reject unknown ones. */
const KNOWN_REQUIRED_FLAGS = FLAG_CHECKSUM_PRESENT | FLAG_MORE_TO_COME

/** A message that cannot be understood; the connection it came from gets closed. */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
}

export interface MsgRequest {
  readonly opCode: typeof OP_MSG
  readonly requestId: number
  readonly flags: number
  /** the kind 0 body, with the kind 1 document sequences added as array fields */
  readonly command: Document
  readonly moreToCome: boolean
}

export interface QueryRequest {
  readonly opCode: typeof OP_QUERY
  readonly requestId: number
  readonly collection: string
  readonly command: Document
}

export type Request = MsgRequest | QueryRequest

function readDocument (buf: Buffer, offset: number, end: number): { doc: Document, next: number } {
  if (offset + 5 > end) throw new ProtocolError('truncated BSON document')
  const size = buf.readInt32LE(offset)
  if (size < 5 || offset + size > end) throw new ProtocolError(`invalid BSON document size ${size}`)
  let doc: Document
  try {
    doc = BSON.deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS)
  } catch (error) {
    throw new ProtocolError(`invalid BSON: ${(error as Error).message}`)
  }
  return { doc, next: offset + size }
}

function readCString (buf: Buffer, offset: number, end: number): { value: string, next: number } {
  const zero = buf.indexOf(0, offset)
  if (zero === -1 || zero >= end) throw new ProtocolError('unterminated cstring')
  return { value: buf.toString('utf8', offset, zero), next: zero + 1 }
}

/** Decodes one complete message (`buf` holds exactly its declared length, at least a header). Throws ProtocolError. */
export function parseMessage (buf: Buffer): Request {
  const requestId = buf.readInt32LE(4)
  const opCode = buf.readInt32LE(12)
  if (opCode === OP_MSG) return parseMsg(buf, requestId)
  if (opCode === OP_QUERY) return parseQuery(buf, requestId)
  throw new ProtocolError(`unsupported opCode ${opCode}`)
}

function parseMsg (buf: Buffer, requestId: number): MsgRequest {
  if (buf.length < HEADER_SIZE + 5) throw new ProtocolError('OP_MSG too short')
  const flags = buf.readUInt32LE(HEADER_SIZE)
  const unknownRequired = flags & 0xffff & ~KNOWN_REQUIRED_FLAGS
  if (unknownRequired !== 0) throw new ProtocolError(`unsupported OP_MSG flag bits ${unknownRequired}`)
  // the CRC-32C checksum is tolerated, not verified (TCP already checks loopback traffic)
  const end = (flags & FLAG_CHECKSUM_PRESENT) !== 0 ? buf.length - 4 : buf.length
  let offset = HEADER_SIZE + 4
  let body: Document | undefined
  const sequences: Array<[string, Document[]]> = []
  while (offset < end) {
    const kind = buf[offset++]
    if (kind === 0) {
      if (body !== undefined) throw new ProtocolError('OP_MSG with more than one body section')
      const read = readDocument(buf, offset, end)
      body = read.doc
      offset = read.next
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('truncated document sequence')
      const size = buf.readInt32LE(offset)
      const sectionEnd = offset + size
      if (size < 5 || sectionEnd > end) throw new ProtocolError(`invalid document sequence size ${size}`)
      const id = readCString(buf, offset + 4, sectionEnd)
      const docs: Document[] = []
      let at = id.next
      while (at < sectionEnd) {
        const read = readDocument(buf, at, sectionEnd)
        docs.push(read.doc)
        at = read.next
      }
      sequences.push([id.value, docs])
      offset = sectionEnd
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${String(kind)}`)
    }
  }
  if (body === undefined) throw new ProtocolError('OP_MSG without a body section')
  for (const [id, docs] of sequences) {
    const existing: unknown = body[id]
    body[id] = Array.isArray(existing) ? [...existing, ...docs] : docs
  }
  return { opCode: OP_MSG, requestId, flags, command: body, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0 }
}

function parseQuery (buf: Buffer, requestId: number): QueryRequest {
  // flags(int32) fullCollectionName(cstring) numberToSkip(int32) numberToReturn(int32) query [returnFieldsSelector]
  const name = readCString(buf, HEADER_SIZE + 4, buf.length)
  const { doc } = readDocument(buf, name.next + 8, buf.length)
  return { opCode: OP_QUERY, requestId, collection: name.value, command: doc }
}

let nextRequestId = 1

function allocMessage (length: number, responseTo: number, opCode: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  buf.writeInt32LE(length, 0)
  buf.writeInt32LE(nextRequestId, 4)
  nextRequestId = (nextRequestId + 1) & 0x7fffffff
  buf.writeInt32LE(responseTo, 8)
  buf.writeInt32LE(opCode, 12)
  return buf
}

/** An OP_MSG reply (flags 0, one body section). */
export function encodeMsgReply (responseTo: number, reply: Document): Buffer {
  const body = BSON.serialize(reply, SERIALIZE_OPTIONS)
  const length = HEADER_SIZE + 4 + 1 + body.length
  const out = allocMessage(length, responseTo, OP_MSG)
  out.writeUInt32LE(0, HEADER_SIZE)
  out[HEADER_SIZE + 4] = 0
  out.set(body, HEADER_SIZE + 5)
  return out
}

/** An OP_REPLY with one document, answering an OP_QUERY. */
export function encodeReply (responseTo: number, reply: Document): Buffer {
  const body = BSON.serialize(reply, SERIALIZE_OPTIONS)
  const length = HEADER_SIZE + 20 + body.length
  const out = allocMessage(length, responseTo, OP_REPLY)
  out.writeInt32LE(0, HEADER_SIZE) // responseFlags
  out.writeBigInt64LE(0n, HEADER_SIZE + 4) // cursorID
  out.writeInt32LE(0, HEADER_SIZE + 12) // startingFrom
  out.writeInt32LE(1, HEADER_SIZE + 16) // numberReturned
  out.set(body, HEADER_SIZE + 20)
  return out
}
