import type { Socket } from 'node:net'
import type { Document } from 'bson'
import { isPlainObject } from './bson-values.js'
import { OP_QUERY_COMMANDS, commandName, runCommand } from './commands/index.js'
import type { ClientInfo, ServerState } from './context.js'
import { CommandError } from './errors.js'
import { HEADER_SIZE, MAX_MESSAGE_SIZE, OP_QUERY, ProtocolError, encodeMsgReply, encodeReply, parseMessage, type Request } from './protocol.js'

function ignoreError (): void {
  // 'error' is always followed by 'close', where the connection is cleaned up
}

/**
 * One client socket. Kept lean for thousands of idle driver connections: no timers, no per-read
 * allocation when a read holds whole messages (the common case); bytes are concatenated only when
 * a message spans reads.
 */
export class Connection implements ClientInfo {
  readonly remote: string
  private pending: Buffer[] | undefined
  private pendingBytes = 0
  private needed = 0
  private paused = false

  constructor (readonly id: number, private readonly socket: Socket, private readonly server: ServerState, onClose: (connection: Connection) => void) {
    this.remote = `${String(socket.remoteAddress)}:${String(socket.remotePort)}`
    socket.setNoDelay(true)
    socket.on('data', chunk => this.onData(chunk as Buffer))
    socket.on('error', ignoreError)
    socket.once('close', () => onClose(this))
  }

  destroy (): void {
    this.socket.destroy()
  }

  private onData (chunk: Buffer): void {
    let buf = chunk
    if (this.pending !== undefined) {
      this.pending.push(chunk)
      this.pendingBytes += chunk.length
      if (this.pendingBytes < this.needed) return
      buf = Buffer.concat(this.pending, this.pendingBytes)
      this.pending = undefined
    }
    let offset = 0
    while (buf.length - offset >= 4) {
      const length = buf.readInt32LE(offset)
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
        this.close(`invalid message length ${length}`)
        return
      }
      if (buf.length - offset < length) break
      if (!this.handle(buf.subarray(offset, offset + length))) return
      offset += length
    }
    if (offset < buf.length) {
      const rest = buf.subarray(offset)
      this.pending = [rest]
      this.pendingBytes = rest.length
      this.needed = rest.length >= 4 ? rest.readInt32LE(0) : 4
    }
  }

  /** Answers one message; false when the connection got closed because of it. */
  private handle (message: Buffer): boolean {
    let request: Request
    try {
      request = parseMessage(message)
    } catch (error) {
      this.close((error as ProtocolError).message)
      return false
    }
    if (request.opCode === OP_QUERY) {
      this.write(encodeReply, request.requestId, this.legacyCommand(request.collection, request.command))
      return true
    }
    const reply = runCommand(this.server, this, request.command.$db, request.command)
    // moreToCome from the client: an unacknowledged write (w: 0) that must get no reply at all
    if (!request.moreToCome) this.write(encodeMsgReply, request.requestId, reply)
    return true
  }

  /** OP_QUERY on `<db>.$cmd`, accepted for the handshake only, like mongod 6+. */
  private legacyCommand (collection: string, query: Document): Document {
    const command = isPlainObject(query.$query) ? query.$query : query
    const name = commandName(command)
    if (!collection.endsWith('.$cmd') || !OP_QUERY_COMMANDS.has(name)) {
      return { ok: 0, errmsg: `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`, code: 352, codeName: 'UnsupportedOpQueryCommand' }
    }
    return runCommand(this.server, this, collection.slice(0, -'.$cmd'.length), command)
  }

  private write (encode: (responseTo: number, reply: Document) => Buffer, responseTo: number, reply: Document): void {
    let out: Buffer
    try {
      out = encode(responseTo, reply)
    } catch (error) {
      out = encode(responseTo, new CommandError('BSONObjectTooLarge', `reply could not be encoded: ${(error as Error).message}`).toReply())
    }
    if (!this.socket.write(out) && !this.paused) {
      // the client does not read: stop reading its requests until it catches up
      this.paused = true
      this.socket.pause()
      this.socket.once('drain', () => {
        this.paused = false
        this.socket.resume()
      })
    }
  }

  private close (reason: string): void {
    this.server.logger.warn(`wire-server: closing connection ${this.id} from ${this.remote}: ${reason}`)
    this.pending = undefined
    this.socket.destroy()
  }
}
