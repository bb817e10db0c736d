import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../../demo-app/app.js'
import { startDatabase } from '../../demo-app/database/launcher.js'
import { AppUnreachableError, drive } from '../../load/drive.js'
import { uncoveredChildEnv } from '../helpers/child-env.js'
import { freePort } from '../../load/free-port.js'

const cli = fileURLToPath(new URL('../../load/cli.ts', import.meta.url))

// The app under load runs in this process: the CLI must run without blocking our event loop.
async function runCli (args: string[]): Promise<{ status: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { env: uncoveredChildEnv() })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [status] = await once(child, 'close') as [number | null]
  return { status, stdout, stderr }
}

// One demo app and database for the tests that drive it: each start costs seconds of a busy machine.
const database = await startDatabase()
t.teardown(() => database.stop())
const app = await buildApp({ mongoUri: database.uri, diagnosticsToken: 'load-test-token-0123456789' })
t.teardown(() => app.close())
const url = await app.listen({ port: 0, host: '127.0.0.1' })

t.test('the load scripts drive a running demo app and report their numbers', async (t) => {
  for (const target of ['posts', 'leaking-sessions'] as const) {
    const summary = await drive({ target, url, durationSeconds: 1, connections: 4, tenants: 3, render: false })
    t.ok(summary.requests > 10, `${target}: ${summary.requests} requests in 1 s`)
    t.ok(summary.requestsPerSecond > 0)
    t.ok(summary.latencyP99Ms >= summary.latencyP50Ms)
    t.equal(summary.failures, 0, `${target}: no failures (${JSON.stringify(summary.statusCounts)})`)
    t.ok((summary.statusCounts['201'] ?? 0) > 0, 'created answers counted')
  }
  const sessions = await drive({ target: 'sessions', url, durationSeconds: 1, connections: 2, tenants: 2, render: false })
  t.ok((sessions.statusCounts['422'] ?? 0) > 0, 'the checkout mix includes rejected coupons (the leaking error path)')

  const stats = await (await fetch(new URL('/stats', url))).json() as { mongooseConnections: number }
  t.ok(stats.mongooseConnections >= 1)
})

t.test('the CLI prints autocannon\'s table and its own summary line', async (t) => {
  const child = await runCli(['posts', '--url', url, '--duration', '1', '--connections', '2', '--tenants', '2'])
  t.equal(child.status, 0, child.stderr)
  t.match(child.stdout + child.stderr, /Req\/Sec/, 'autocannon\'s result table')
  t.match(child.stdout, /^posts: \d+ requests, \d+ req\/s, p99 [\d.]+ ms \(201: \d+\)$/m)
})

t.test('an unreachable app is a clear error and a non-zero exit', async (t) => {
  const nowhere = `http://127.0.0.1:${await freePort()}`
  await t.rejects(drive({ target: 'posts', url: nowhere, durationSeconds: 1, connections: 1, tenants: 1, render: false }), AppUnreachableError)
  const child = await runCli(['leaking-posts', '--url', nowhere, '--duration', '1'])
  t.equal(child.status, 1)
  t.match(child.stderr, new RegExp(`cannot reach the demo app at ${nowhere} \\(ECONNREFUSED\\): start it first with \`npm start\``))
})

t.test('bad usage exits 2 with the usage line', async (t) => {
  const usages = [[], ['nope'], ['posts', '--duration', 'x'], ['posts', '--bogus']]
  // Side by side: each child is mostly tsx starting up, and none waits for the others.
  const children = await Promise.all(usages.map(runCli))
  for (const [i, child] of children.entries()) {
    t.equal(child.status, 2, usages[i]!.join(' '))
    t.match(child.stderr, /usage: load\/cli.ts <posts\|leaking-posts\|sessions\|leaking-sessions>/)
  }
})
