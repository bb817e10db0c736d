import type { Document } from 'bson'
import type { CommandContext, CommandHandler } from '../context.js'
import { CommandError } from '../errors.js'
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE } from '../protocol.js'
import { sessionId } from './common.js'

/** The MongoDB release this server answers like (driver 7 accepts wire versions 9 to 29). */
export const SERVER_VERSION = '7.0.0'
export const MAX_WIRE_VERSION = 21
export const MAX_WRITE_BATCH_SIZE = 100_000
export const LOGICAL_SESSION_TIMEOUT_MINUTES = 30

/**
 * hello / isMaster for a standalone server. No `topologyVersion`: the driver then polls
 * (heartbeatFrequencyMS) instead of keeping an awaitable hello open per client, which matters with
 * thousands of clients.
 */
function hello (legacy: boolean): CommandHandler {
  return (ctx: CommandContext) => ({
    ...(ctx.command.helloOk === true ? { helloOk: true } : {}),
    [legacy ? 'ismaster' : 'isWritablePrimary']: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: LOGICAL_SESSION_TIMEOUT_MINUTES,
    connectionId: ctx.client.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false
  })
}

const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'fastify-memory-diagnostics-wire-server',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['in-memory'],
  modules: []
})

const PARAMETERS: Document = {
  featureCompatibilityVersion: { version: '7.0' },
  authenticationMechanisms: [],
  maxBSONDepth: 100,
  cursorTimeoutMillis: 600_000
}

const getParameter: CommandHandler = ctx => {
  const all = ctx.command.getParameter === '*'
  const out: Document = {}
  for (const [name, value] of Object.entries(PARAMETERS)) {
    if (all || name in ctx.command) out[name] = value
  }
  if (Object.keys(out).length === 0) throw new CommandError('InvalidOptions', 'no option found to get')
  return out
}

/** Ending a session kills its cursors, as mongod does. */
const endSessions: CommandHandler = ctx => {
  const sessions: unknown = ctx.command.endSessions
  const ended = new Set(Array.isArray(sessions) ? sessions.map(sessionId) : [])
  ended.delete(undefined)
  ctx.server.cursors.killWhere(cursor => ended.has(cursor.session))
  return {}
}

/** A small serverStatus: enough to watch connections pile up while the leaking endpoint runs. */
const serverStatus: CommandHandler = ctx => {
  const { server } = ctx
  const uptimeMillis = Date.now() - server.startedAt
  const memory = process.memoryUsage()
  return {
    host: server.hostPort(),
    version: SERVER_VERSION,
    process: 'wire-server',
    pid: process.pid,
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis,
    localTime: new Date(),
    connections: { current: server.connections.current, totalCreated: server.connections.totalCreated },
    mem: { bits: 64, resident: Math.round(memory.rss / 1024 / 1024), virtual: Math.round(memory.rss / 1024 / 1024) },
    metrics: { cursor: { open: { total: server.cursors.size } } }
  }
}

export const handshakeCommands: Record<string, CommandHandler> = {
  hello: hello(false),
  isMaster: hello(true),
  ismaster: hello(true),
  ping: () => ({}),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  endSessions,
  serverStatus,
  whatsmyuri: ctx => ({ you: ctx.client.remote }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] } })
}
