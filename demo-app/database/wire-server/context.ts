import type { Document } from 'bson'
import type { CursorManager } from './cursors.js'
import type { Storage } from './storage.js'

/** The subset of console / pino the server logs through (one string per call). */
export interface Logger {
  info: (message: string) => void
  warn: (message: string) => void
  error: (message: string) => void
}

function discard (): void {}

export const silentLogger: Logger = { info: discard, warn: discard, error: discard }

export interface ConnectionStats {
  current: number
  totalCreated: number
}

/** What command handlers may use from the server. */
export interface ServerState {
  readonly storage: Storage
  readonly cursors: CursorManager
  readonly startedAt: number
  readonly connections: ConnectionStats
  readonly logger: Logger
  /** "host:port" the server listens on */
  readonly hostPort: () => string
}

export interface ClientInfo {
  readonly id: number
  /** "ip:port" of the peer */
  readonly remote: string
}

export interface CommandContext {
  readonly server: ServerState
  readonly client: ClientInfo
  /** the `$db` of the command */
  readonly db: string
  /** the command document; its first key is the command name */
  readonly command: Document
}

export type CommandHandler = (ctx: CommandContext) => Document
