import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { startDatabase } from '../../demo-app/database/launcher.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface RunningServer {
  pid: number
  /** Everything printed on stdout so far. */
  output: () => string
  /** Resolves with the text of the first stdout line that matches. */
  waitFor: (pattern: RegExp) => Promise<RegExpExecArray>
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function startServer (test: Test, env: Record<string, string | undefined>): RunningServer {
  const environment: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }
  delete environment.MONGODB_URI
  delete environment.DIAGNOSTICS_TOKEN
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete environment[name]
    else environment[name] = value
  }
  // The TypeScript loader this test runs under (tsx as in `npm start`, or tap's), so that tap
  // records the server's coverage from the same transpilation as the rest of the suite.
  const child = spawn(process.execPath, [...process.execArgv, 'demo-app/server.ts'], {
    cwd: root,
    env: environment,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  test.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  let stdout = ''
  const waiters: Array<{ pattern: RegExp, resolve: (match: RegExpExecArray) => void }> = []
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(stdout)
      if (match !== null) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(match)
      }
    }
  })
  return {
    pid: child.pid as number,
    output: () => stdout,
    waitFor: async (pattern) => await new Promise((resolve, reject) => {
      const match = pattern.exec(stdout)
      if (match !== null) return resolve(match)
      waiters.push({ pattern, resolve })
      exited.then(({ code }) => reject(new Error(`the server exited (code ${code}) before printing ${pattern}:\n${stdout}`)), reject)
    }),
    exited
  }
}

/** Live descendants of a process (zombies excluded: they are gone, only waiting to be reaped). */
function descendantsOf (pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // exited while we were looking
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (state !== 'Z') parents.set(Number(entry), Number(ppid))
  }
  const found: number[] = []
  let frontier = [pid]
  while (frontier.length > 0) {
    frontier = [...parents].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child)
    found.push(...frontier)
  }
  return found
}

function isAlive (pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').slice(-1000).includes(') Z ')
  } catch {
    return false
  }
}

const post = { tenant: 'acme', title: 'Hello', content: 'First post', author: 'ada' }

t.test('without DIAGNOSTICS_TOKEN: prints a generated token once with a curl line, serves, exits 0 on SIGTERM', async (t) => {
  const server = startServer(t, {})
  const [, token, address] = await server.waitFor(/curl -H "Authorization: Bearer ([A-Za-z0-9_-]+)" (http:\/\/127\.0\.0\.1:\d+)\/_diagnostics\/memory\n/) as unknown as [string, string, string]
  t.equal(token.length, 32, '24 random bytes in base64url')
  await server.waitFor(/"database":"wire-compatible"/)

  const created = await fetch(`${address}/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(post) })
  t.equal(created.status, 201)
  const leaked = await fetch(`${address}/leaking-posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(post) })
  t.equal(leaked.status, 201)
  const memory = await fetch(`${address}/_diagnostics/memory`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(memory.status, 200, 'the printed curl line works')
  t.equal((await fetch(`${address}/_diagnostics/memory`)).status, 401)

  const children = descendantsOf(server.pid)
  t.ok(children.length > 0, 'the database runs in a child process')
  process.kill(server.pid, 'SIGTERM')
  t.same(await server.exited, { code: 0, signal: null })
  t.same(children.filter(isAlive), [], 'no database child left behind')
  t.equal(server.output().split(token).length - 1, 1, 'the token is printed once, and never logged')
  t.match(server.output(), /"signal":"SIGTERM","msg":"shutting down"/)
})

t.test('with DIAGNOSTICS_TOKEN and MONGODB_URI: never prints the token, uses that database, exits 0 on SIGINT', async (t) => {
  const database = await startDatabase({ logger: { info () {}, warn () {} } })
  t.teardown(() => database.stop())
  const token = randomBytes(24).toString('hex')
  const server = startServer(t, { DIAGNOSTICS_TOKEN: token, MONGODB_URI: database.uri })
  const [, address] = await server.waitFor(/curl -H "Authorization: Bearer \$DIAGNOSTICS_TOKEN" (http:\/\/127\.0\.0\.1:\d+)\/_diagnostics\/memory\n/) as unknown as [string, string]
  await server.waitFor(/"database":"external"/)
  t.same(descendantsOf(server.pid).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('wire-server')), [],
    'no database child of its own')
  const memory = await fetch(`${address}/_diagnostics/memory`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(memory.status, 200)
  process.kill(server.pid, 'SIGINT')
  t.same(await server.exited, { code: 0, signal: null })
  t.notOk(server.output().includes(token), 'the token from the environment is never printed')
})

/** A client that sends a request's headers and never its body: the request stays in flight. */
async function holdARequest (test: Test, server: RunningServer, address: string): Promise<void> {
  const { hostname, port } = new URL(address)
  const socket = connect(Number(port), hostname)
  test.teardown(() => { socket.destroy() })
  socket.write('POST /posts?held HTTP/1.1\r\nHost: demo\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"tenant"')
  await server.waitFor(/"url":"\/posts\?held".*"msg":"incoming request"/)
}

t.test('a request that never ends: the shutdown gives up after SHUTDOWN_TIMEOUT_MS and exits 1', async (t) => {
  const database = await startDatabase({ logger: { info () {}, warn () {} } })
  t.teardown(() => database.stop())
  const server = startServer(t, { MONGODB_URI: database.uri, SHUTDOWN_TIMEOUT_MS: '300' })
  const [, address] = await server.waitFor(/(http:\/\/127\.0\.0\.1:\d+)\/_diagnostics\/memory\n/) as unknown as [string, string]
  await holdARequest(t, server, address)
  process.kill(server.pid, 'SIGTERM')
  t.same(await server.exited, { code: 1, signal: null })
  t.match(server.output(), /"timeoutMs":300,"msg":"shutdown timed out"/)
})

t.test('a second signal exits at once', async (t) => {
  const database = await startDatabase({ logger: { info () {}, warn () {} } })
  t.teardown(() => database.stop())
  const server = startServer(t, { MONGODB_URI: database.uri })
  const [, address] = await server.waitFor(/(http:\/\/127\.0\.0\.1:\d+)\/_diagnostics\/memory\n/) as unknown as [string, string]
  await holdARequest(t, server, address)
  process.kill(server.pid, 'SIGTERM')
  await server.waitFor(/"msg":"shutting down"/)
  process.kill(server.pid, 'SIGINT')
  t.same(await server.exited, { code: 1, signal: null })
  t.match(server.output(), /"signal":"SIGINT","msg":"second signal: exiting without waiting for the shutdown"/)
  t.notMatch(server.output(), /shutdown timed out/)
})

t.test('a start failure stops the database it started and exits 1', async (t) => {
  // Also runs with PORT, HOST and LOG_LEVEL unset: it fails before listening on the default port.
  const server = startServer(t, { DIAGNOSTICS_TOKEN: 'too-short', PORT: undefined, HOST: undefined, LOG_LEVEL: undefined })
  const [, databasePid] = await server.waitFor(/wire-compatible in-memory server \(pid (\d+)\)/) as unknown as [string, string]
  t.same(await server.exited, { code: 1, signal: null })
  t.notOk(isAlive(Number(databasePid)), 'the database child was stopped before exiting')
  t.match(server.output(), /demo app failed to start/)
  t.match(server.output(), /at least 16 characters/)
})
