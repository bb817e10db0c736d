import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { buildApp } from './app.js'
import { startDatabase } from './database/launcher.js'

// Entry point of the demo: `npm start`. Environment: PORT (3000), HOST (127.0.0.1),
// MONGODB_URI (a real MongoDB; otherwise the launcher picks one), DIAGNOSTICS_TOKEN (generated
// and printed when unset), LOG_LEVEL (info), SHUTDOWN_TIMEOUT_MS (10000).

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' })
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const shutdownTimeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000)
const tokenFromEnvironment = process.env.DIAGNOSTICS_TOKEN
const token = tokenFromEnvironment ?? randomBytes(24).toString('base64url')

const database = await startDatabase({ logger })

let address: string
let app: Awaited<ReturnType<typeof buildApp>>
try {
  app = await buildApp({
    mongoUri: database.uri,
    diagnosticsToken: token,
    loggerInstance: logger,
    ...(process.env.DIAGNOSTICS_SNAPSHOT_DIR === undefined ? {} : { snapshotDir: process.env.DIAGNOSTICS_SNAPSHOT_DIR })
  })
  address = await app.listen({ port, host })
} catch (error) {
  logger.error(error, 'demo app failed to start')
  await database.stop()
  process.exit(1)
}

logger.info({ database: database.kind, address }, `demo app ready, database: ${database.kind}`)

// Printed once, on stdout but outside the structured log: tokens never go through the logger.
const memoryUrl = `${address}/_diagnostics/memory`
process.stdout.write(tokenFromEnvironment === undefined
  ? `\nDIAGNOSTICS_TOKEN was not set: generated one for this run. Read the memory figures with:\n  curl -H "Authorization: Bearer ${token}" ${memoryUrl}\n\n`
  : `\nRead the memory figures with:\n  curl -H "Authorization: Bearer $DIAGNOSTICS_TOKEN" ${memoryUrl}\n\n`)

let shuttingDown = false
async function shutDown (signal: NodeJS.Signals): Promise<void> {
  if (shuttingDown) {
    logger.warn({ signal }, 'second signal: exiting without waiting for the shutdown')
    process.exit(1)
  }
  shuttingDown = true
  logger.info({ signal }, 'shutting down')
  // A request that never ends (a client that stops sending its body) holds app.close() forever:
  // give up after a while. Unref'd, so it never delays a clean exit.
  setTimeout(() => {
    logger.error({ timeoutMs: shutdownTimeoutMs }, 'shutdown timed out')
    process.exit(1)
  }, shutdownTimeoutMs).unref()
  // Fastify first (no new requests, in-flight ones finish), whose onClose closes every database
  // connection, then the database itself. Then nothing is left and the process exits with 0.
  // (If one of them rejects, the unhandled rejection ends the process with 1; the launcher kills
  // its database child on exit.)
  await app.close()
  await database.stop()
  logger.info('stopped')
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => await shutDown(signal))
}
