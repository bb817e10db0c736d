import '../fixtures/snapshot-line-ends-warm-up.js'
import { readFileSync, statSync } from 'node:fs'
import { setImmediate as nextLoopTurn } from 'node:timers/promises'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { filesIn, heapSnapshotShape, snapshotId, snapshotsIdle } from '../fixtures/snapshot-app.js'
import { build, AUTH as headers } from '../helpers/build-app.js'

const ID = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{16}$/

t.test('during the cool-down nothing is being taken: a POST is told so, and the snapshot just written can be deleted', async (t) => {
  const { app, dir } = await build(t)
  const taken = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(taken.statusCode, 201)
  const again = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(again.statusCode, 409)
  t.match(again.json(), { code: 'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN', coolDownLeftMs: Number })
  const deleted = await app.inject({ method: 'DELETE', url: `/heap-snapshot/${taken.json().id}`, headers })
  t.equal(deleted.statusCode, 204, 'the file is complete and nothing reads it')
  t.same(filesIn(dir), [])
  await snapshotsIdle(app)
})

t.test('POST ?download=true sends the snapshot in the same response, gzip\'ed by default, raw with gzip=false', async (t) => {
  const { app, dir } = await build(t)

  const gzipped = await app.inject({ method: 'POST', url: '/heap-snapshot?download=true', headers })
  t.equal(gzipped.statusCode, 201)
  t.equal(gzipped.headers['content-type'], 'application/gzip')
  const id = gzipped.headers['x-heap-snapshot-id'] as string
  t.match(id, ID)
  t.equal(gzipped.headers.location, `/heap-snapshot/${id}`)
  t.equal(gzipped.headers['content-disposition'], `attachment; filename="heap-${id}.heapsnapshot.gz"`)
  const text = gunzipSync(gzipped.rawPayload)
  t.ok(heapSnapshotShape(text.toString('utf8')).nodesMatchCount, 'gunzips to a V8 heap snapshot')
  t.ok(text.equals(readFileSync(`${dir}/heap-${id}.heapsnapshot`)), 'the file kept on disk, downloadable again')

  await snapshotsIdle(app)
  const raw = await app.inject({ method: 'POST', url: '/heap-snapshot?download=true&gzip=false', headers })
  t.equal(raw.statusCode, 201)
  t.equal(raw.headers['content-type'], 'application/octet-stream')
  const rawId = raw.headers['x-heap-snapshot-id'] as string
  t.equal(raw.headers['content-length'], String(statSync(`${dir}/heap-${rawId}.heapsnapshot`).size))
  t.ok(heapSnapshotShape(raw.body).edgesMatchCount, 'a V8 heap snapshot as it is')
  t.same(filesIn(dir), [`heap-${id}.heapsnapshot`, `heap-${rawId}.heapsnapshot`].sort())

  await snapshotsIdle(app) // released once the download is over and the cool-down passed
  const memory = await app.inject({ method: 'GET', url: '/memory', headers })
  t.equal(memory.json().snapshot.last.id, rawId)
  t.equal(memory.json().snapshot.inProgress, false)
})

t.test('POST ?wait=false answers 202 with a Location at once; GET answers 202 until the snapshot is written; close waits for it', async (t) => {
  const { app, dir } = await build(t, {}, { prefix: '/_diagnostics' })

  const accepted = await app.inject({ method: 'POST', url: '/_diagnostics/heap-snapshot?wait=false', headers })
  t.equal(accepted.statusCode, 202)
  const { id, location, status } = accepted.json()
  t.match(id, ID)
  t.equal(status, 'in-progress')
  t.equal(location, `/_diagnostics/heap-snapshot/${id}`)
  t.equal(accepted.headers.location, location)
  t.equal(accepted.headers['retry-after'], '1')
  t.same(filesIn(dir), [], 'nothing written before the response is flushed')

  // Asked before the next turn of the event loop, where the snapshot is taken.
  const pending = await app.inject({ method: 'GET', url: location, headers })
  t.equal(pending.statusCode, 202)
  t.same(pending.json(), { id, status: 'in-progress', location })
  const busy = await app.inject({ method: 'DELETE', url: location, headers })
  t.equal(busy.statusCode, 409, 'a snapshot being taken cannot be deleted')
  const memory = await app.inject({ method: 'GET', url: '/_diagnostics/memory', headers })
  t.match(memory.json().snapshot, { allowed: false, inProgress: true, reason: /^a heap snapshot is writing/ })
  const second = await app.inject({ method: 'POST', url: '/_diagnostics/heap-snapshot', headers })
  t.equal(second.statusCode, 409)
  t.match(second.json(), { code: 'FST_MEMDIAG_SNAPSHOT_IN_PROGRESS', message: /^A heap snapshot is already being taken or downloaded/ })
  t.equal(second.headers['retry-after'], '1')

  let res = pending
  while (res.statusCode === 202) {
    await nextLoopTurn()
    res = await app.inject({ method: 'GET', url: `${location}?gzip=false`, headers })
  }
  t.equal(res.statusCode, 200)
  t.ok(heapSnapshotShape(res.body).nodesMatchCount)

  await snapshotsIdle(app, '/_diagnostics')
  // Another deferred snapshot, then close at once: close waits for it rather than leave it half done.
  const another = await app.inject({ method: 'POST', url: '/_diagnostics/heap-snapshot?wait=false', headers })
  t.equal(another.statusCode, 202)
  await app.close()
  t.same(filesIn(dir), [`heap-${id}.heapsnapshot`, `heap-${another.json().id}.heapsnapshot`].sort())
})

t.test('ids are checked against a strict pattern: path-like ids never reach the file system', async (t) => {
  const { app } = await build(t)
  for (const url of [
    '/heap-snapshot/..%2F..%2Fetc%2Fpasswd',
    '/heap-snapshot/%2Fetc%2Fpasswd',
    `/heap-snapshot/${snapshotId()}.heapsnapshot`,
    `/heap-snapshot/${snapshotId().toUpperCase()}`
  ]) {
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url, headers })
      t.equal(res.statusCode, 400, `${method} ${url}`)
      t.equal(res.json().code, 'FST_MEMDIAG_INVALID_REQUEST')
    }
  }
  for (const url of ['/heap-snapshot/../../etc/passwd', '/heap-snapshot/..', '/heap-snapshot/%2E%2E']) {
    const traversal = await app.inject({ method: 'GET', url, headers })
    t.equal(traversal.statusCode, 404, `${url} matches no route`)
  }

  const unknown = await app.inject({ method: 'GET', url: `/heap-snapshot/${snapshotId()}`, headers })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'FST_MEMDIAG_SNAPSHOT_NOT_FOUND')
  const head = await app.inject({ method: 'HEAD', url: `/heap-snapshot/${snapshotId()}`, headers })
  t.equal(head.statusCode, 404, 'no HEAD route: it would read the whole file for nothing')
})

t.test('query parameters are checked', async (t) => {
  const { app, dir } = await build(t)
  const both = await app.inject({ method: 'POST', url: '/heap-snapshot?download=true&wait=false', headers })
  t.equal(both.statusCode, 400)
  t.match(both.json(), { code: 'FST_MEMDIAG_INVALID_REQUEST', message: /cannot be combined with `wait=false`/ })
  const unknown = await app.inject({ method: 'POST', url: '/heap-snapshot?dir=/etc', headers })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().message, /unknown querystring parameter "dir"/)
  const notBoolean = await app.inject({ method: 'POST', url: '/heap-snapshot?download=maybe', headers })
  t.equal(notBoolean.statusCode, 400)
  const getUnknown = await app.inject({ method: 'GET', url: `/heap-snapshot/${snapshotId()}?name=x`, headers })
  t.equal(getUnknown.statusCode, 400)
  const deleteUnknown = await app.inject({ method: 'DELETE', url: `/heap-snapshot/${snapshotId()}?force=true`, headers })
  t.equal(deleteUnknown.statusCode, 400)
  t.same(filesIn(dir), [])
})

t.test('the snapshot routes need credentials', async (t) => {
  const { app, dir } = await build(t)
  for (const [method, url] of [['POST', '/heap-snapshot'], ['GET', `/heap-snapshot/${snapshotId()}`], ['DELETE', `/heap-snapshot/${snapshotId()}`]] as const) {
    const missing = await app.inject({ method, url })
    t.equal(missing.statusCode, 401, `${method} ${url} without a token`)
    t.equal(missing.json().code, 'FST_MEMDIAG_MISSING_CREDENTIALS')
    const wrong = await app.inject({ method, url, headers: { authorization: 'Bearer not-the-right-token-at-all' } })
    t.equal(wrong.statusCode, 401)
  }
  t.same(filesIn(dir), [], 'no snapshot taken')
})
