import type { Document } from 'bson'
import type { ClientInfo, CommandHandler, ServerState } from '../context.js'
import { CommandError } from '../errors.js'
import { checkDatabaseName } from '../storage.js'
import { aggregateCommands } from './aggregate.js'
import { collectionCommands } from './collections.js'
import { databaseCommands } from './databases.js'
import { deleteCommands } from './delete.js'
import { findAndModifyCommands } from './find-and-modify.js'
import { findCommands } from './find.js'
import { handshakeCommands } from './handshake.js'
import { indexCommands } from './indexes.js'
import { insertCommands } from './insert.js'
import { updateCommands } from './update.js'

const handlers = new Map<string, CommandHandler>(Object.entries({
  ...handshakeCommands,
  ...insertCommands,
  ...findCommands,
  ...updateCommands,
  ...deleteCommands,
  ...findAndModifyCommands,
  ...aggregateCommands,
  ...indexCommands,
  ...collectionCommands,
  ...databaseCommands
}))

/** Commands that may arrive in OP_QUERY: only the handshake, like mongod 6+ (anything else: code 352). */
export const OP_QUERY_COMMANDS = new Set(['hello', 'isMaster', 'ismaster'])

export function commandName (command: Document): string {
  return Object.keys(command)[0] ?? ''
}

/**
 * Runs one command and returns its reply (`ok: 1` or `ok: 0` with a code). Never throws: a bug in
 * a handler answers InternalError instead of taking the server down.
 */
export function runCommand (server: ServerState, client: ClientInfo, db: unknown, command: Document): Document {
  const name = commandName(command)
  const handler = handlers.get(name)
  if (handler === undefined) {
    return new CommandError('CommandNotFound', `no such command: '${name}'`).toReply()
  }
  try {
    return { ...handler({ server, client, db: checkDatabaseName(db), command }), ok: 1 }
  } catch (error) {
    if (error instanceof CommandError) return error.toReply()
    server.logger.error(`wire-server: command ${name} failed: ${String((error as Error).stack)}`)
    return { ok: 0, errmsg: `internal error running ${name}: ${(error as Error).message}`, code: 1, codeName: 'InternalError' }
  }
}
