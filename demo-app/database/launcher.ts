/**
 * Gives the demo a MongoDB to talk to, whatever the machine has:
 *
 * 1. `MONGODB_URI` when set (a real MongoDB, or anything speaking the wire protocol);
 * 2. a real `mongod` through mongodb-memory-server-core, only when a binary is already on disk
 *    (`MONGOMS_SYSTEM_BINARY`, or its download cache). It never downloads one;
 * 3. otherwise the project's own wire-compatible in-memory server, in a child process that exits
 *    with its parent.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
// only the binary lookup: the package's index would also load its own copy of the mongodb driver
// into this process (the demo's heap is what gets diagnosed); MongoMemoryServer is imported when used
import { DryMongoBinary } from 'mongodb-memory-server-core/lib/util/DryMongoBinary.js'
import { redact } from './uri.js'

export { uriFor } from './uri.js'

export type DatabaseKind = 'external' | 'mongodb-memory-server' | 'wire-compatible'

export interface LauncherLogger {
  info: (message: string) => void
  warn: (message: string) => void
}

export interface StartDatabaseOptions {
  /** where the one "which database" line goes (default: console) */
  logger?: LauncherLogger
  /** port of the wire-compatible server (default 0: a free one) */
  port?: number
  /** how long the wire-compatible server may take to report ready (default 15 s) */
  startTimeoutMS?: number
}

export interface RunningDatabase {
  /** mongodb://host:port without a database: add one per tenant with uriFor() */
  uri: string
  kind: DatabaseKind
  /** the server process, when this launcher started one */
  pid?: number
  /** stops what this launcher started; idempotent; a no-op for an external database */
  stop: () => Promise<void>
}

const STOP_GRACE_MS = 5000

export async function startDatabase (options: StartDatabaseOptions = {}): Promise<RunningDatabase> {
  const logger = options.logger ?? console
  const external = process.env.MONGODB_URI?.trim()
  if (external !== undefined && external.length > 0) {
    logger.info(`database: external MongoDB from MONGODB_URI (${redact(external)})`)
    return { uri: external, kind: 'external', stop: async () => {} }
  }
  const binary = await findLocalMongod(logger)
  if (binary !== undefined) {
    try {
      return await startMemoryServer(binary, logger)
    } catch (error) {
      logger.warn(`database: mongod ${binary} did not start (${(error as Error).message}); using the wire-compatible server instead`)
    }
  }
  return await startWireServer(logger, options.port ?? 0, options.startTimeoutMS ?? 15_000)
}

/**
 * A mongod binary already on disk, as mongodb-memory-server-core would find it: MONGOMS_SYSTEM_BINARY,
 * else its cache (MONGOMS_DOWNLOAD_DIR, ~/.cache/mongodb-binaries, node_modules/.cache/mongodb-memory-server).
 * Only looks: MONGOMS_RUNTIME_DOWNLOAD is forced off so that nothing in this process downloads.
 */
export async function findLocalMongod (logger: LauncherLogger): Promise<string | undefined> {
  process.env.MONGOMS_RUNTIME_DOWNLOAD = 'false'
  process.env.MONGOMS_DISABLE_POSTINSTALL = '1'
  try {
    const options = await DryMongoBinary.generateOptions()
    if (options.systemBinary.length > 0) {
      const found = await DryMongoBinary.getSystemPath(resolvePath(options.systemBinary))
      if (found === undefined) logger.warn(`database: MONGOMS_SYSTEM_BINARY ${options.systemBinary} is not an executable file`)
      return found
    }
    const [exists, path] = await DryMongoBinary.generateDownloadPath(options)
    return exists ? path : undefined
  } catch (error) {
    logger.warn(`database: could not look for a mongod binary (${(error as Error).message})`)
    return undefined
  }
}

async function startMemoryServer (binary: string, logger: LauncherLogger): Promise<RunningDatabase> {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core')
  const server = await MongoMemoryServer.create({ binary: { systemBinary: binary }, instance: { ip: '127.0.0.1' } })
  const uri = server.getUri().replace(/\/$/, '')
  const pid = server.instanceInfo?.instance.mongodProcess?.pid
  logger.info(`database: mongodb-memory-server running ${binary} (pid ${String(pid)}) at ${uri}`)
  let stopping: Promise<void> | undefined
  return {
    uri,
    kind: 'mongodb-memory-server',
    pid,
    stop: async () => {
      stopping ??= server.stop({ doCleanup: true, force: true }).then(() => {})
      await stopping
    }
  }
}

/** What main.ts sends once listening (its only IPC message). */
interface ReadyMessage {
  type: 'wire-server-ready'
  uri: string
  port: number
}

async function startWireServer (logger: LauncherLogger, port: number, startTimeoutMS: number): Promise<RunningDatabase> {
  const entry = fileURLToPath(new URL('./wire-server/main.ts', import.meta.url))
  const child = fork(entry, ['--port', String(port)], {
    execPath: process.execPath,
    execArgv: childExecArgv(process.execArgv),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  const ready = await waitForReady(child, startTimeoutMS)
  // neither the child nor its IPC channel keep this process alive; the child exits with us
  child.unref()
  child.channel?.unref()
  const killOnExit = (): void => { child.kill('SIGTERM') }
  process.once('exit', killOnExit)
  logger.info(`database: wire-compatible in-memory server (pid ${String(child.pid)}) at ${ready.uri}; no MONGODB_URI and no local mongod binary`)
  let stopping: Promise<void> | undefined
  return {
    uri: ready.uri,
    kind: 'wire-compatible',
    pid: child.pid,
    stop: async () => {
      process.off('exit', killOnExit)
      stopping ??= stopProcess(child, STOP_GRACE_MS)
      await stopping
    }
  }
}

const LOADER_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader'])

/**
 * Node flags for the child: the parent's module-loading ones only, so that it loads TypeScript the
 * same way (tsx, or a test runner's loader) without inheriting the demo's memory, profiling or
 * inspector flags (a small --max-old-space-size meant for the leaking app must not starve the
 * database). With no such flag (a loader registered from code or through NODE_OPTIONS, which the
 * child inherits anyway): tsx.
 */
export function childExecArgv (parent: readonly string[]): string[] {
  const kept: string[] = []
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i] as string
    if (LOADER_FLAGS.has(arg)) kept.push(arg, parent[++i] as string)
    else if (/^--(import|require|loader|experimental-loader)=/.test(arg)) kept.push(arg)
  }
  return kept.length > 0 ? kept : ['--import', import.meta.resolve('tsx')]
}

async function waitForReady (child: ChildProcess, timeoutMS: number): Promise<ReadyMessage> {
  return await new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      cleanup()
      child.kill('SIGKILL')
      reject(error)
    }
    const onExit = (code: number | null, signal: string | null): void => {
      fail(new Error(`the wire-compatible server exited before it was ready (code ${String(code)}, signal ${String(signal)})`))
    }
    const onMessage = (message: ReadyMessage): void => {
      cleanup()
      resolve(message)
    }
    const timer = setTimeout(() => fail(new Error(`the wire-compatible server did not report ready within ${timeoutMS} ms`)), timeoutMS)
    function cleanup (): void {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      child.off('error', fail)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.once('error', fail)
  })
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMS`; resolves once it has exited. */
export async function stopProcess (child: ChildProcess, graceMS: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMS)
  await exited
  clearTimeout(timer)
}
