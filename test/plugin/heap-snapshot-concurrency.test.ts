import '../fixtures/snapshot-line-ends-warm-up.js'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readdirSync, readlinkSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createSnapshotLock } from '../../plugin/snapshot-lock.js'
import { filesIn } from '../fixtures/snapshot-app.js'
import { build, AUTH as headers } from '../helpers/build-app.js'
import type { LogLine } from '../helpers/build-app.js'

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

t.test('the lock: one holder, released only by it, waiters told when it is free', async (t) => {
  const lock = createSnapshotLock()
  await lock.whenFree()
  t.equal(lock.acquire('a'), true)
  t.equal(lock.acquire('b'), false)
  t.equal(lock.holder, 'a')
  let freed = false
  const waiting = lock.whenFree().then(() => { freed = true })
  lock.release('b')
  t.equal(lock.holder, 'a', 'only the holder releases it')
  lock.release('a')
  await waiting
  t.equal(freed, true)
  t.equal(lock.holder, null)
  lock.release('a')
  t.equal(lock.acquire('b'), true)
})

t.test('50 concurrent POSTs: exactly one 201 and 49 × 409, exactly one file', async (t) => {
  const { app, dir } = await build(t)
  const responses = await Promise.all(Array.from({ length: 50 }, () => app.inject({ method: 'POST', url: '/heap-snapshot', headers })))
  const statuses: Record<number, number> = {}
  for (const res of responses) statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
  t.same(statuses, { 201: 1, 409: 49 })
  const conflict = responses.find((res) => res.statusCode === 409)
  t.same(conflict?.json(), {
    statusCode: 409,
    code: 'FST_MEMDIAG_SNAPSHOT_IN_PROGRESS',
    error: 'Conflict',
    message: 'A heap snapshot is already being taken or downloaded; retry when it is done'
  })
  t.equal(filesIn(dir).length, 1)
  const after = await app.inject({ method: 'GET', url: '/memory', headers })
  t.equal(after.json().snapshot.inProgress, false)
})

t.test('a client that aborts mid-download releases the lock, leaves no temporary file and no descriptor', async (t) => {
  const { app, dir, logs } = await build(t)
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

  const memory = await app.inject({ method: 'GET', url: '/memory', headers })
  t.equal(memory.json().snapshot.inProgress, false, 'the lock is released')
  const next = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(next.statusCode, 201, 'the next snapshot is taken')

  const files = filesIn(dir)
  t.equal(files.length, 2)
  t.same(files.filter((name) => !name.endsWith('.heapsnapshot')), [], 'no temporary file')
  t.same(openDescriptors(), before, 'no descriptor left open')
})
