import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { Connection } from './connection.js'
import { silentLogger, type ConnectionStats, type Logger, type ServerState } from './context.js'
import { CursorManager } from './cursors.js'
import { Storage } from './storage.js'

export interface WireServerOptions {
  /** default 127.0.0.1 */
  host?: string
  /** default 0: a free port */
  port?: number
  logger?: Logger
  /** idle cursors are killed after this long (mongod: cursorTimeoutMillis, 10 minutes) */
  cursorTimeoutMS?: number
}

export interface ListeningAddress {
  host: string
  port: number
  /** mongodb://host:port, without database: append one per tenant with uriFor() */
  uri: string
}

/**
 * An in-memory server speaking the MongoDB wire protocol, enough for the official driver and
 * Mongoose. Each database name is its own namespace; nothing is persisted.
 */
export class WireServer implements ServerState {
  readonly storage = new Storage()
  readonly cursors: CursorManager
  readonly startedAt = Date.now()
  readonly connections: ConnectionStats = { current: 0, totalCreated: 0 }
  readonly logger: Logger
  private readonly open = new Set<Connection>()
  private readonly server: Server
  private readonly host: string
  private readonly requestedPort: number
  private nextConnectionId = 1

  constructor (options: WireServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1'
    this.requestedPort = options.port ?? 0
    this.logger = options.logger ?? silentLogger
    this.cursors = new CursorManager(options.cursorTimeoutMS)
    this.server = createServer({ noDelay: true }, socket => this.accept(socket))
  }

  /** The port listened on (valid once listen() resolved). */
  get port (): number {
    return (this.server.address() as AddressInfo).port
  }

  readonly hostPort = (): string => `${this.host}:${this.port}`

  async listen (): Promise<ListeningAddress> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      // a deep accept backlog: the leaking endpoint connects clients in bursts
      this.server.listen({ host: this.host, port: this.requestedPort, backlog: 4096 }, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    // after listen, an 'error' (e.g. EMFILE on accept) must not kill the process
    this.server.on('error', error => this.logger.error(`wire-server: ${error.message}`))
    this.cursors.start()
    return { host: this.host, port: this.port, uri: `mongodb://${this.host}:${this.port}` }
  }

  /** Stops accepting, closes every client connection and frees all data. */
  async close (): Promise<void> {
    this.cursors.stop()
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    for (const connection of this.open) connection.destroy()
    await closed
  }

  private accept (socket: Socket): void {
    const connection = new Connection(this.nextConnectionId++, socket, this, closed => {
      this.open.delete(closed)
      this.connections.current--
    })
    this.open.add(connection)
    this.connections.current++
    this.connections.totalCreated++
  }
}
