// main.ts, the wire server's own process: ready report, signals, bad arguments.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'

const MAIN = fileURLToPath(new URL('../../../demo-app/database/wire-server/main.ts', import.meta.url))

function run (args: string[], env: NodeJS.ProcessEnv = process.env): ReturnType<typeof spawn> {
  // this process's node flags: the child loads TypeScript the way the test runner does
  return spawn(process.execPath, [...process.execArgv, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
}

async function exit (child: ReturnType<typeof spawn>): Promise<{ code: number | null, stderr: string }> {
  let stderr = ''
  child.stderr?.on('data', chunk => { stderr += String(chunk) })
  const [code] = await new Promise<[number | null]>(resolve => child.once('exit', code => resolve([code])))
  return { code, stderr }
}

t.test('without IPC: one JSON line on stdout, SIGINT shuts it down cleanly', async t => {
  const child = run(['--port', '0'])
  t.teardown(() => child.kill('SIGKILL'))
  const exited = exit(child)
  const { value } = await createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]().next()
  const ready = JSON.parse(value as string) as { type: string, host: string, port: number, uri: string, pid: number }
  t.match(ready, { type: 'wire-server-ready', host: '127.0.0.1', pid: child.pid })
  t.equal(ready.uri, `mongodb://127.0.0.1:${ready.port}`)
  const mongo = new MongoClient(`${ready.uri}/main`)
  await mongo.db().collection('c').insertOne({ a: 1 })
  t.equal(await mongo.db().collection('c').countDocuments(), 1)
  child.kill('SIGINT')
  const { code, stderr } = await exited
  t.equal(code, 0)
  t.match(stderr, /shutting down \(SIGINT\)/)
  await mongo.close()
})

t.test('the port can come from WIRE_SERVER_PORT; a busy port exits with an error', async t => {
  const first = run([])
  t.teardown(() => first.kill('SIGKILL'))
  const { value } = await createInterface({ input: first.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]().next()
  const { port } = JSON.parse(value as string) as { port: number }
  const second = run([], { ...process.env, WIRE_SERVER_PORT: String(port) })
  const { code, stderr } = await exit(second)
  t.equal(code, 1)
  t.match(stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`))
  first.kill('SIGTERM')
})

t.test('an invalid --port or an unknown option exits with code 2', async t => {
  for (const port of ['nope', '-1', '70000']) {
    const { code, stderr } = await exit(run([`--port=${port}`]))
    t.equal(code, 2, port)
    t.match(stderr, `invalid --port ${port}`)
  }
  const { code, stderr } = await exit(run(['--bogus']))
  t.equal(code, 2)
  t.match(stderr, /Unknown option '--bogus'[^]*usage:/)
})
