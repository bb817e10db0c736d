import '../fixtures/snapshot-line-ends-warm-up.js'
import { request } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readdirSync, readlinkSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { filesIn, snapshotsIdle } from '../fixtures/snapshot-app.js'
import { build, AUTH as headers } from '../helpers/build-app.js'
import type { LogLine } from '../helpers/build-app.js'

// V8's own snapshots: what is tested here happens while the event loop is blocked by one.
const REAL = { realSnapshots: true }

function openDescriptors (): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)]
    } catch {
      return [] // the descriptor readdirSync itself used
    }
  }).sort()
}

async function logged (logs: LogLine[], text: string): Promise<LogLine> {
  for (;;) {
    const line = logs.find((entry) => entry.msg.includes(text))
    if (line !== undefined) return line
    await sleep(10)
  }
}

interface Answer {
  statusCode: number
  headers: IncomingHttpHeaders
  body: string
}

/** One POST over its own connection, read to the end. */
function post (port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ statusCode: res.statusCode as number, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }))
    })
    req.on('error', reject)
    req.end()
  })
}

// Over real sockets: requests that reach the kernel while the snapshot blocks the event loop are
// parsed after it; they must still find the lock taken (app.inject cannot show this).
for (const path of ['/heap-snapshot', '/heap-snapshot?wait=false', '/heap-snapshot?download=true']) {
  t.test(`20 then 50 concurrent POST ${path} over real HTTP: exactly one 2xx, the rest 409, one file each time`, async (t) => {
    const { app, dir } = await build(t, {}, REAL)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    let files = 0
    for (const count of [20, 50]) {
      const answers = await Promise.all(Array.from({ length: count }, () => post(port, path)))
      const statuses: Record<number, number> = {}
      for (const answer of answers) statuses[answer.statusCode] = (statuses[answer.statusCode] ?? 0) + 1
      const success = path.includes('wait=false') ? 202 : 201
      t.same(statuses, { [success]: 1, 409: count - 1 }, `${count} at once`)
      // asked before the write: in progress; read behind it: the cool-down (a download: still in progress)
      const codes = new Set(answers.filter((answer) => answer.statusCode === 409).map((answer) => JSON.parse(answer.body).code))
      t.ok([...codes].every((code) => code === 'FST_MEMDIAG_SNAPSHOT_IN_PROGRESS' || code === 'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN'), [...codes].join(', '))
      await snapshotsIdle(app)
      files += 1
      t.equal(filesIn(dir).filter((name) => name.endsWith('.heapsnapshot')).length, files, 'exactly one more file')
    }
  })
}

t.test('a POST right after a snapshot is told of the cool-down and what is left of it; after Retry-After one is taken', async (t) => {
  const { app } = await build(t, {}, REAL)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  t.equal((await post(port, '/heap-snapshot')).statusCode, 201)
  const right = await post(port, '/heap-snapshot')
  t.equal(right.statusCode, 409, 'within the cool-down')
  const body = JSON.parse(right.body)
  t.match(body, {
    statusCode: 409,
    code: 'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN',
    message: /^No heap snapshot is being taken: cooling down after the last one, the next can be taken in \d+ ms$/,
    coolDownLeftMs: Number
  })
  t.ok(body.coolDownLeftMs > 0 && body.coolDownLeftMs <= 5000, `${body.coolDownLeftMs} ms left`)
  t.match(body.message, ` ${body.coolDownLeftMs} ms`, 'the message says what the figure says')
  const retryAfter = right.headers['retry-after']
  t.match(retryAfter, /^[1-9]\d*$/, 'whole seconds')
  t.ok(Number(retryAfter) * 1000 >= body.coolDownLeftMs, `Retry-After ${retryAfter} s covers ${body.coolDownLeftMs} ms`)
  // the client that waits what it was told is not refused again
  await sleep(Number(retryAfter) * 1000)
  t.equal((await post(port, '/heap-snapshot')).statusCode, 201, 'after Retry-After')
  await snapshotsIdle(app)
})

t.test('a client that stops reading a download is cut off after snapshot.sendTimeoutMs; the lock is released', async (t) => {
  const { app, dir, logs } = await build(t, { snapshot: { sendTimeoutMs: 300 } }, REAL)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const before = openDescriptors()
  // A paused client never reads the end of the connection, so what is checked is the server's side.
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/heap-snapshot?download=true&gzip=false', headers, agent: false })
  const started = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.on('error', () => {})
      res.once('data', () => res.pause()) // stops reading: kernel buffers fill, the server stalls
      resolve(res.statusCode as number)
    })
  })
  req.on('error', () => {})
  req.end()
  t.equal(await started, 201, 'the download started')
  const meanwhile = await post(port, '/heap-snapshot')
  t.equal(meanwhile.statusCode, 409)
  t.equal(JSON.parse(meanwhile.body).code, 'FST_MEMDIAG_SNAPSHOT_IN_PROGRESS', 'being downloaded: in progress, not a cool-down')
  t.equal(meanwhile.headers['retry-after'], '1')
  t.match(await logged(logs, 'heap snapshot download stalled'), { level: 40, sendTimeoutMs: 300 })
  t.match(await logged(logs, 'heap snapshot download interrupted'), { level: 40 }, 'the response was ended')
  await snapshotsIdle(app)
  t.equal((await post(port, '/heap-snapshot')).statusCode, 201, 'the next snapshot is taken')
  await snapshotsIdle(app)
  req.destroy()
  t.same(filesIn(dir).filter((name) => !name.endsWith('.heapsnapshot')), [], 'no temporary file')
  t.same(openDescriptors(), before, 'no descriptor left open')
})

t.test('a client that aborts mid-download releases the lock, leaves no temporary file and no descriptor', async (t) => {
  const { app, dir, logs } = await build(t, {}, REAL)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const before = openDescriptors()

  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/heap-snapshot?download=true', headers, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy()
        resolve(res.statusCode as number)
      })
    })
    req.on('error', (error) => { if (!req.destroyed) reject(error) })
    req.end()
  })
  t.equal(status, 201, 'the download had started')
  const interrupted = await logged(logs, 'heap snapshot download interrupted')
  t.match(interrupted, { level: 40, snapshotId: String })

  await snapshotsIdle(app)
  const next = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(next.statusCode, 201, 'the next snapshot is taken')

  const files = filesIn(dir)
  t.equal(files.length, 2)
  t.same(files.filter((name) => !name.endsWith('.heapsnapshot')), [], 'no temporary file')
  t.same(openDescriptors(), before, 'no descriptor left open')
})
