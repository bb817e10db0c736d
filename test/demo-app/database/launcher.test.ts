// The launcher: which database it picks, that it never downloads, that stop() and a dead parent
// leave no process behind.
import t from 'tap'
import { fork, spawn } from 'node:child_process'
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { DryMongoBinary } from 'mongodb-memory-server-core'
import { childExecArgv, findLocalMongod, startDatabase, stopProcess, uriFor } from '../../../demo-app/database/launcher.js'
import { startServer } from './fixtures/wire.js'

const FAKE_MONGOD = fileURLToPath(new URL('./fixtures/fake-mongod', import.meta.url))
const PARENT = fileURLToPath(new URL('./fixtures/parent.ts', import.meta.url))
const IGNORE_SIGTERM = fileURLToPath(new URL('./fixtures/ignore-sigterm.mjs', import.meta.url))

function recorder (): { lines: string[], logger: { info: (m: string) => void, warn: (m: string) => void } } {
  const lines: string[] = []
  return { lines, logger: { info: m => lines.push(`info: ${m}`), warn: m => lines.push(`warn: ${m}`) } }
}

/** Whether a process still runs. A zombie (exited, not yet reaped by a non-reaping pid 1) counts as gone. */
async function alive (pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const { readFile } = await import('node:fs/promises')
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return !/^\d+ \(.*\) Z/.test(stat)
}

async function gone (pid: number, withinMS: number): Promise<boolean> {
  const deadline = Date.now() + withinMS
  while (Date.now() < deadline) {
    if (!(await alive(pid))) return true
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return !(await alive(pid))
}

async function ping (uri: string, db = 'launcher'): Promise<number> {
  const mongo = new MongoClient(uriFor(uri, db), { serverSelectionTimeoutMS: 5000 })
  try {
    return (await mongo.db().command({ ping: 1 })).ok as number
  } finally {
    await mongo.close()
  }
}

/** Sets environment variables for one test, restoring them afterwards. */
function env (t: { teardown: (fn: () => void) => void }, values: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(values).map(key => [key, process.env[key]]))
  const apply = (next: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(next)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  apply(values)
  t.teardown(() => apply(saved))
}

// about 20 child processes, each compiling TypeScript at startup: leave room for a parallel `npm test`
t.setTimeout(300_000)

// none of these tests may see a real database or binary from the environment
env(t, { MONGODB_URI: undefined, MONGOMS_SYSTEM_BINARY: undefined, MONGOMS_DOWNLOAD_DIR: undefined, MONGOMS_ARCHIVE_NAME: undefined })

t.test('no MONGODB_URI and no mongod: the wire-compatible server, in a child process', async t => {
  const downloadDir = await mkdtemp(join(tmpdir(), 'mongoms-'))
  t.teardown(async () => await rm(downloadDir, { recursive: true, force: true }))
  env(t, { MONGOMS_DOWNLOAD_DIR: downloadDir, MONGOMS_RUNTIME_DOWNLOAD: 'true' })
  const { lines, logger } = recorder()
  const database = await startDatabase({ logger })
  t.teardown(async () => await database.stop())
  t.equal(database.kind, 'wire-compatible')
  t.match(database.uri, /^mongodb:\/\/127\.0\.0\.1:\d+$/)
  t.same(lines.length, 1, 'one line')
  t.match(lines[0], /^info: database: wire-compatible in-memory server \(pid \d+\) at mongodb:\/\/127\.0\.0\.1:\d+/)
  t.not(database.pid, process.pid)
  t.equal(await ping(database.uri), 1)
  t.same(await readdir(downloadDir), [], 'nothing downloaded')
  t.equal(process.env.MONGOMS_RUNTIME_DOWNLOAD, 'false', 'runtime download switched off')

  const pid = database.pid as number
  await database.stop()
  t.equal(await alive(pid), false, 'stop() leaves no process')
  await database.stop()
  t.pass('stop() twice is fine')
})

t.test('MONGODB_URI set: used as is (external), stop() leaves it running', async t => {
  const { uri } = await startServer(t)
  env(t, { MONGODB_URI: ` ${uri} ` })
  const { lines, logger } = recorder()
  const database = await startDatabase({ logger })
  t.equal(database.kind, 'external')
  t.equal(database.uri, uri)
  t.equal(database.pid, undefined)
  t.same(lines, [`info: database: external MongoDB from MONGODB_URI (${uri})`])
  t.equal(await ping(database.uri, 'tenant-a'), 1)
  await database.stop()
  t.equal(await ping(uri), 1, 'the external server is not stopped')
})

t.test('MONGODB_URI with credentials: the password stays out of the log; the default logger is console', async t => {
  env(t, { MONGODB_URI: 'mongodb://user:s3cret@db.example:27017/admin' })
  const infos = t.capture(console, 'info')
  const database = await startDatabase()
  t.equal(database.kind, 'external')
  t.same(infos().map(call => call.args), [['database: external MongoDB from MONGODB_URI (mongodb://user:***@db.example:27017/admin)']])
})

t.test('a mongod binary already on disk: mongodb-memory-server runs it', async t => {
  // the stand-in runs node with this process's flags: the same TypeScript loader everywhere
  env(t, { MONGOMS_SYSTEM_BINARY: FAKE_MONGOD, FAKE_MONGOD_NODE: process.execPath, FAKE_MONGOD_NODE_FLAGS: process.execArgv.join(' ') })
  const { lines, logger } = recorder()
  const database = await startDatabase({ logger })
  t.teardown(async () => await database.stop())
  t.equal(database.kind, 'mongodb-memory-server')
  t.match(database.uri, /^mongodb:\/\/127\.0\.0\.1:\d+$/)
  t.match(lines, [/^info: database: mongodb-memory-server running .*fake-mongod \(pid \d+\) at mongodb:\/\/127\.0\.0\.1:\d+$/])
  t.equal(await ping(database.uri), 1)
  const pid = database.pid as number
  await database.stop()
  await database.stop()
  t.ok(await gone(pid, 5000), 'stop() ends mongod')
})

t.test('a binary in mongodb-memory-server\'s download cache is found (and nothing is downloaded)', async t => {
  const downloadDir = await mkdtemp(join(tmpdir(), 'mongoms-'))
  t.teardown(async () => await rm(downloadDir, { recursive: true, force: true }))
  env(t, { MONGOMS_DOWNLOAD_DIR: downloadDir })
  const [, expected] = await DryMongoBinary.generateDownloadPath(await DryMongoBinary.generateOptions())
  t.equal(await findLocalMongod(recorder().logger), undefined, 'an empty cache has none')
  await copyFile(FAKE_MONGOD, expected)
  t.equal(await findLocalMongod(recorder().logger), expected)
})

t.test('an unusable binary or configuration falls back to the wire-compatible server', async t => {
  for (const [name, values, warning] of [
    ['missing MONGOMS_SYSTEM_BINARY', { MONGOMS_SYSTEM_BINARY: '/nonexistent/mongod' }, /MONGOMS_SYSTEM_BINARY \/nonexistent\/mongod is not an executable file/],
    ['a binary that is not mongod', { MONGOMS_SYSTEM_BINARY: '/bin/false' }, /mongod \/bin\/false did not start/],
    ['a broken mongodb-memory-server setting', { MONGOMS_ARCHIVE_NAME: 'not-an-archive' }, /could not look for a mongod binary/]
  ] as const) {
    await t.test(name, async t => {
      env(t, values)
      const { lines, logger } = recorder()
      const database = await startDatabase({ logger })
      t.teardown(async () => await database.stop())
      t.equal(database.kind, 'wire-compatible')
      t.match(lines[0], warning)
      t.match(lines[1], /^info: database: wire-compatible/)
    })
  }
})

t.test('the wire-compatible server failing to start is reported', async t => {
  const blocker = createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const { port } = blocker.address() as AddressInfo
  await t.rejects(startDatabase({ logger: recorder().logger, port }), /exited before it was ready \(code 1/)
  await t.rejects(startDatabase({ logger: recorder().logger, startTimeoutMS: 1 }), /did not report ready within 1 ms/)
})

t.test('a killed parent leaves no child (launcher, IPC)', async t => {
  const parent = spawn(process.execPath, [...process.execArgv, PARENT], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => parent.kill('SIGKILL'))
  const [line] = await (createInterface({ input: parent.stdout })[Symbol.asyncIterator]().next()).then(result => [result.value as string])
  const { pid, uri, kind } = JSON.parse(line ?? '{}') as { pid: number, uri: string, kind: string }
  t.equal(kind, 'wire-compatible')
  t.equal(await ping(uri), 1)
  t.ok(await alive(pid))
  parent.kill('SIGKILL')
  t.ok(await gone(pid, 5000), `child ${pid} exited within 5 s of its parent's SIGKILL`)
})

t.test('a killed parent leaves no child (no IPC: ppid polling)', async t => {
  const parent = spawn(process.execPath, [...process.execArgv, PARENT, '--no-ipc'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => parent.kill('SIGKILL'))
  const { value } = await createInterface({ input: parent.stdout })[Symbol.asyncIterator]().next()
  const { pid, uri } = JSON.parse(value as string) as { pid: number, uri: string }
  t.equal(await ping(uri), 1)
  parent.kill('SIGKILL')
  t.ok(await gone(pid, 5000), `child ${pid} exited within 5 s of its parent's SIGKILL`)
})

t.test('a parent exiting normally without stop() takes its child along', async t => {
  const parent = spawn(process.execPath, [...process.execArgv, PARENT, '--exit'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise(resolve => parent.once('exit', resolve))
  const { value } = await createInterface({ input: parent.stdout })[Symbol.asyncIterator]().next()
  const { pid } = JSON.parse(value as string) as { pid: number }
  t.equal(await exited, 0, 'the parent ends on its own: the child does not keep it alive')
  t.ok(await gone(pid, 5000), `child ${pid} exited with its parent`)
})

t.test('the child gets the parent\'s module-loading node flags only, tsx when there are none', async t => {
  t.same(childExecArgv(['--import', 'tsx', '--inspect=9229', '--max-old-space-size=64', '--require', './hook.cjs', '--heapsnapshot-signal=SIGUSR2']), ['--import', 'tsx', '--require', './hook.cjs'])
  t.same(childExecArgv(['--import=file:///x/loader.mjs', '--enable-source-maps', '--loader=ts-node/esm']), ['--import=file:///x/loader.mjs', '--loader=ts-node/esm'])
  t.same(childExecArgv(['-r', 'ts-node/register', '--experimental-loader', 'x']), ['-r', 'ts-node/register', '--experimental-loader', 'x'])
  t.same(childExecArgv(['--expose-gc']), ['--import', import.meta.resolve('tsx')])
  t.same(childExecArgv([]), ['--import', import.meta.resolve('tsx')])
})

t.test('stopProcess: SIGKILL when SIGTERM is ignored; nothing to do for an exited process', async t => {
  const stubborn = fork(IGNORE_SIGTERM, [], { stdio: 'ignore' })
  await new Promise(resolve => stubborn.once('message', resolve))
  const started = Date.now()
  await stopProcess(stubborn, 200)
  t.equal(stubborn.signalCode, 'SIGKILL')
  t.ok(Date.now() - started >= 200)
  await stopProcess(stubborn, 200)
  t.pass('already exited')
})
