/**
 * Runs the wire-compatible server as its own process:
 *
 *   node --import tsx demo-app/database/wire-server/main.ts [--port 0] [--host 127.0.0.1]
 *
 * Reports `{ type: 'wire-server-ready', host, port, uri, pid }` to its parent (IPC message when
 * forked, and one JSON line on stdout), and exits when the parent goes away: on IPC 'disconnect',
 * or, without IPC, when process.ppid changes (the parent died and we were re-parented). SIGTERM
 * and SIGINT shut it down cleanly.
 */
import { parseArgs } from 'node:util'
import type { Logger } from './context.js'
import { WireServer } from './server.js'

const READY_MESSAGE_TYPE = 'wire-server-ready'
const PARENT_POLL_MS = 500

function usage (message: string): never {
  process.stderr.write(`wire-server: ${message}\nusage: main.ts [--port <0-65535>] [--host <address>]\n`)
  process.exit(2)
}

let values: { port: string, host: string }
try {
  values = parseArgs({
    options: {
      port: { type: 'string', default: process.env.WIRE_SERVER_PORT ?? '0' },
      host: { type: 'string', default: '127.0.0.1' }
    }
  }).values
} catch (error) {
  usage((error as Error).message)
}

const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`invalid --port ${values.port}`)

// everything to stderr: stdout carries the ready line only
const log = (message: string): void => { process.stderr.write(`${message}\n`) }
const logger: Logger = { info: log, warn: log, error: log }

const server = new WireServer({ host: values.host, port, logger })

const onSignal = (signal: NodeJS.Signals): void => shutdown(signal)
const onDisconnect = (): void => shutdown('parent disconnected')
const parentPid = process.ppid
const parentWatch = setInterval(() => {
  if (process.ppid !== parentPid) shutdown(`parent ${parentPid} exited`)
}, PARENT_POLL_MS).unref()

/** Runs once: every trigger is removed first (a second SIGINT/SIGTERM then ends the process at once). */
function shutdown (reason: string): void {
  process.off('SIGTERM', onSignal)
  process.off('SIGINT', onSignal)
  process.off('disconnect', onDisconnect)
  clearInterval(parentWatch)
  logger.info(`wire-server: shutting down (${reason})`)
  // never hang on the way out: connections are destroyed, but be sure
  setTimeout(() => process.exit(0), 2000).unref()
  server.close().finally(() => process.exit(0))
}

process.on('SIGTERM', onSignal)
process.on('SIGINT', onSignal)
process.on('disconnect', onDisconnect)
// stdout may be a pipe whose reader is gone; that is no reason to crash
process.stdout.on('error', () => {})

const address = await server.listen().catch((error: unknown) => {
  logger.error(`wire-server: cannot listen on ${values.host}:${port}: ${(error as Error).message}`)
  process.exit(1)
})
const ready = { type: READY_MESSAGE_TYPE, ...address, pid: process.pid }
process.send?.(ready)
process.stdout.write(`${JSON.stringify(ready)}\n`)
