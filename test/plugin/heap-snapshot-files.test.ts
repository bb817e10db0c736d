import '../fixtures/snapshot-line-ends-warm-up.js'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { setImmediate as nextLoopTurn } from 'node:timers/promises'
import Fastify from 'fastify'
import t from 'tap'
import memoryDiagnostics from '../../plugin/index.js'
import { createSnapshotStore, prepareSnapshotDir } from '../../plugin/snapshot/store.js'
import { filesIn, snapshotId, snapshotsIdle } from '../fixtures/snapshot-app.js'
import { build, AUTH as headers, tempDir } from '../helpers/build-app.js'
import { missingPrerequisite } from '../helpers/missing-prerequisite.js'

const HOUR = 3_600_000

function daysAgo (days: number, hex: string): string {
  return snapshotId(new Date(Date.now() - days * 24 * HOUR), hex)
}

function fakeSnapshot (dir: string, id: string, mtimeMs = Date.now()): string {
  const name = `heap-${id}.heapsnapshot`
  writeFileSync(join(dir, name), '{"snapshot":{}}', { mode: 0o600 })
  utimesSync(join(dir, name), mtimeMs / 1000, mtimeMs / 1000)
  return name
}

function deadPid (): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  return child.pid as number
}

t.test('the directory is created 0700 whatever the umask, and its real path is used', async (t) => {
  const parent = tempDir(t)
  const previous = process.umask(0o277)
  let created: string
  try {
    created = prepareSnapshotDir(join(parent, 'a', 'b'))
  } finally {
    process.umask(previous)
  }
  t.equal(created, join(parent, 'a', 'b'))
  t.equal(statSync(created).mode & 0o777, 0o700)
  symlinkSync(created, join(parent, 'link'))
  t.equal(prepareSnapshotDir(join(parent, 'link')), created, 'a link is resolved once, at startup')
})

t.test('an unsafe directory fails registration', async (t) => {
  const parent = tempDir(t)
  const open = join(parent, 'open')
  mkdirSync(open, { mode: 0o755 })
  chmodSync(open, 0o755)
  const foreign = join(parent, 'foreign')
  mkdirSync(foreign, { mode: 0o700 })
  chownSync(foreign, 65534, 65534)
  const file = join(parent, 'file')
  writeFileSync(file, '')
  const cases: Array<[string, RegExp]> = [
    [open, /is accessible to group or others \(mode 755\): run chmod 700 on it/],
    [foreign, /is owned by uid 65534, not by this process/],
    [file, /cannot create the snapshot directory .*EEXIST/],
    [join(file, 'below'), /cannot create the snapshot directory .*ENOTDIR/]
  ]
  for (const [dir, message] of cases) {
    const app = Fastify()
    app.register(memoryDiagnostics, { auth: false, snapshot: { dir } })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_UNSAFE_SNAPSHOT_DIR', statusCode: 500, message }, dir)
    await app.close()
  }
})

t.test('a directory removed after registration: 500 with the reason, nothing left, the lock released', async (t) => {
  const { app, dir, logs } = await build(t)
  rmSync(dir, { recursive: true })
  for (let i = 0; i < 2; i++) {
    const res = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
    t.equal(res.statusCode, 500, 'refused each time: the lock does not stay taken')
    t.match(res.json(), { code: 'FST_MEMDIAG_SNAPSHOT_FAILED', message: /^Heap snapshot failed: ENOENT: no such file or directory/ })
    await snapshotsIdle(app)
  }
  t.match(logs.find((line) => line.msg.includes('heap snapshot failed')), { level: 50 })

  // Deferred: the failure is answered to whoever asks for that id.
  const accepted = await app.inject({ method: 'POST', url: '/heap-snapshot?wait=false', headers })
  t.equal(accepted.statusCode, 202)
  let res = await app.inject({ method: 'GET', url: accepted.headers.location as string, headers })
  while (res.statusCode === 202) {
    await nextLoopTurn()
    res = await app.inject({ method: 'GET', url: accepted.headers.location as string, headers })
  }
  t.equal(res.statusCode, 500)
  t.match(res.json(), { code: 'FST_MEMDIAG_SNAPSHOT_FAILED', message: /ENOENT/ })

  await snapshotsIdle(app)
  const memory = await app.inject({ method: 'GET', url: '/memory', headers })
  t.match(memory.json().snapshot, { inProgress: false, last: null })
  await app.close()
  t.match(logs.find((line) => line.msg.includes('retention failed')), { level: 40 }, 'retention on close only warns')
})

/** A tmpfs of 256 KiB, mounted for this file and unmounted in teardown; a string says why it cannot. */
function mountTinyTmpfs (): string | { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    rmdirSync(dir)
    return 'cannot mount a small tmpfs here (needs root / CAP_SYS_ADMIN)'
  }
  t.teardown(() => {
    execFileSync('umount', [dir])
    rmdirSync(dir)
  })
  return { dir }
}

const fullDisk = mountTinyTmpfs()
t.test('a full disk (ENOSPC): 500 with the reason, no partial file left', { skip: missingPrerequisite(t, typeof fullDisk === 'string' ? fullDisk : false) }, async (t) => {
  const { dir } = fullDisk as { dir: string }
  const { app } = await build(t, { snapshot: { dir } }, { realSnapshots: true })
  const res = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(res.statusCode, 500)
  t.match(res.json(), { code: 'FST_MEMDIAG_SNAPSHOT_FAILED', message: /ENOSPC: no space left on device/ })
  t.same(filesIn(dir), [], 'the temporary file is removed')
  const open = readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)
    } catch {
      return false
    }
  })
  t.same(open, [], 'and no descriptor is left on it (Node 20 leaves one: the space would stay taken)')
  await app.close()
})

t.test('retention at startup: maxFiles newest kept, older than maxAgeMs removed, stale temporary files removed', async (t) => {
  const dir = tempDir(t)
  const now = Date.now()
  const newest = fakeSnapshot(dir, daysAgo(1, '1111111111111111'))
  const second = fakeSnapshot(dir, daysAgo(2, '2222222222222222'), now - 2 * HOUR)
  const third = fakeSnapshot(dir, daysAgo(3, '3333333333333333'))
  const fourth = fakeSnapshot(dir, daysAgo(4, '4444444444444444'))
  const id = daysAgo(5, '5555555555555555')
  const ownTemp = `heap-${id}.${process.pid}.heapsnapshot.tmp`
  const deadTemp = `heap-${id}.${deadPid()}.heapsnapshot.tmp`
  const liveTemp = `heap-${id}.${process.ppid}.heapsnapshot.tmp`
  for (const name of [ownTemp, deadTemp, liveTemp, 'notes.txt']) writeFileSync(join(dir, name), '')

  const { logs } = await build(t, { snapshot: { dir, maxFiles: 3, maxAgeMs: HOUR } })
  t.same(filesIn(dir), [newest, third, liveTemp, 'notes.txt'].sort(), `kept ${newest} and ${third}`)
  const removal = logs.find((line) => line.msg.includes('retention removed'))
  t.match(removal, { level: 30 })
  t.same((removal?.removed as string[]).sort(), [ownTemp, deadTemp, second, fourth].sort())
  t.notOk(filesIn(dir).includes(second), 'last written 2 hours ago: expired')
})

t.test('retention after each snapshot and on close; an expired file is not served', async (t) => {
  const dir = tempDir(t)
  const old = fakeSnapshot(dir, daysAgo(2, 'aaaaaaaaaaaaaaaa'))
  const older = fakeSnapshot(dir, daysAgo(3, 'bbbbbbbbbbbbbbbb'))
  const { app } = await build(t, { snapshot: { dir, maxFiles: 2 } })
  t.same(filesIn(dir), [old, older].sort())

  const res = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(res.statusCode, 201)
  const taken = `heap-${res.json().id}.heapsnapshot`
  t.same(filesIn(dir), [taken, old].sort(), 'the oldest removed once the new one is written')

  const expiredId = daysAgo(1, 'cccccccccccccccc')
  const expired = fakeSnapshot(dir, expiredId, Date.now() - 2 * HOUR)
  const gone = await app.inject({ method: 'GET', url: `/heap-snapshot/${expiredId}`, headers })
  t.equal(gone.statusCode, 404, 'expired: 404')
  t.notOk(filesIn(dir).includes(expired), 'and removed')

  const later = fakeSnapshot(dir, daysAgo(0.5, 'dddddddddddddddd'))
  t.equal(filesIn(dir).length, 3)
  await app.close()
  t.same(filesIn(dir), [taken, later].sort(), 'retention on close')
})

t.test('a snapshot name taken by something else: retention warns, GET and DELETE answer 500, nothing is followed', async (t) => {
  const dir = tempDir(t)
  const blockedId = daysAgo(9, 'eeeeeeeeeeeeeeee')
  mkdirSync(join(dir, `heap-${blockedId}.heapsnapshot`))
  const linkId = daysAgo(0, 'ffffffffffffffff')
  symlinkSync('/etc/hostname', join(dir, `heap-${linkId}.heapsnapshot`))
  const { app, logs } = await build(t, { snapshot: { dir, maxFiles: 1 } })
  t.match(logs.find((line) => line.msg.includes('retention failed')), { level: 40 }, 'registration goes on')

  const link = await app.inject({ method: 'GET', url: `/heap-snapshot/${linkId}`, headers })
  t.equal(link.statusCode, 500, 'a symbolic link is not followed (O_NOFOLLOW)')
  t.equal(link.json().code, 'FST_MEMDIAG_UNSAFE_SNAPSHOT_FILE')
  const blocked = await app.inject({ method: 'DELETE', url: `/heap-snapshot/${blockedId}`, headers })
  t.equal(blocked.statusCode, 500)
  t.equal(blocked.json().code, 'FST_MEMDIAG_INTERNAL_ERROR')
})

t.test('planted FIFO, directory, symlink and hard link: a clear JSON 500 at once, never a hang, nothing outside served', async (t) => {
  const dir = tempDir(t)
  const outside = join(tempDir(t, 'memdiag-outside-'), 'secret')
  writeFileSync(outside, 'outside the snapshot directory', { mode: 0o600 })
  const planted: Array<[string, (path: string) => void, RegExp]> = [
    ['aaaaaaaaaaaaaaa1', (path) => { execFileSync('mkfifo', ['-m', '600', path]) }, /is not a regular file/],
    ['aaaaaaaaaaaaaaa2', (path) => { mkdirSync(path, { mode: 0o700 }) }, /is not a regular file/],
    ['aaaaaaaaaaaaaaa3', (path) => { symlinkSync(outside, path) }, /is a symbolic link/],
    ['aaaaaaaaaaaaaaa4', (path) => { linkSync(outside, path) }, /has 2 hard links/],
    ['aaaaaaaaaaaaaaa5', (path) => { writeFileSync(path, '{}', { mode: 0o644 }); chmodSync(path, 0o644) }, /accessible to group or others/]
  ]
  const ids = planted.map(([hex, plant]) => {
    const id = snapshotId(new Date(), hex)
    plant(join(dir, `heap-${id}.heapsnapshot`))
    return id
  })
  const { app } = await build(t, { snapshot: { dir, maxFiles: 10 } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  for (const [index, id] of ids.entries()) {
    const [, , reason] = planted[index] as [string, unknown, RegExp]
    // over a real socket with a deadline: a FIFO opened without O_NONBLOCK would hang here
    const res = await fetch(`http://127.0.0.1:${port}/heap-snapshot/${id}`, { headers, signal: AbortSignal.timeout(5000) })
    t.equal(res.status, 500, reason.source)
    const body = await res.json() as { code: string, message: string }
    t.equal(body.code, 'FST_MEMDIAG_UNSAFE_SNAPSHOT_FILE')
    t.match(body.message, reason)
    t.notMatch(body.message, /outside the snapshot directory/)
  }
})

t.test('the store never builds a path from an invalid id', async (t) => {
  const store = createSnapshotStore({ dir: tempDir(t), maxFiles: 3, maxAgeMs: HOUR })
  t.equal(await store.open('../../etc/passwd'), null)
  t.equal(await store.remove('../x'), false)
})
