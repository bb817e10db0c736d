// The route's answers, files and downloads over a real V8 heap snapshot of this process (the
// other route tests write a small snapshot instead: see test/helpers/build-app.ts).
import '../fixtures/snapshot-line-ends-warm-up.js'
import { readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { filesIn, heapSnapshotShape, snapshotsIdle } from '../fixtures/snapshot-app.js'
import { build, AUTH as headers } from '../helpers/build-app.js'

const ID = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{16}$/

t.test('POST writes a V8 heap snapshot 0600 in a 0700 directory; GET sends it gzip\'ed or raw; DELETE removes it', async (t) => {
  const { app, dir, logs } = await build(t, {}, { realSnapshots: true })

  const res = await app.inject({ method: 'POST', url: '/heap-snapshot', headers })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, {
    id: ID,
    filePath: String,
    bytes: Number,
    durationMs: Number,
    heapUsedBytes: Number,
    rssBeforeBytes: Number,
    peakRssBytes: Number,
    extraRssBytes: Number,
    costFactor: Number,
    peakRssIsUpperBound: false,
    createdAt: String
  })
  t.equal(res.headers.location, `/heap-snapshot/${body.id}`)
  t.equal(dirname(body.filePath), dir)
  t.same(filesIn(dir), [`heap-${body.id}.heapsnapshot`], 'one complete file, no temporary file left')
  t.equal(statSync(body.filePath).mode & 0o777, 0o600, 'file mode 0600')
  t.equal(statSync(dir).mode & 0o777, 0o700, 'directory mode 0700')
  t.equal(statSync(body.filePath).size, body.bytes)
  t.ok(body.peakRssBytes >= body.rssBeforeBytes)
  t.equal(body.extraRssBytes, body.peakRssBytes - body.rssBeforeBytes)

  const file = readFileSync(body.filePath)
  const shape = heapSnapshotShape(file.toString('utf8'))
  t.match(shape.nodeFields, ['type', 'name', 'id', 'self_size', 'edge_count'])
  t.match(shape.edgeFields, ['type', 'name_or_index', 'to_node'])
  t.ok(shape.nodesMatchCount, 'nodes array matches node_count × node_fields')
  t.ok(shape.edgesMatchCount, 'edges array matches edge_count × edge_fields')
  t.ok(shape.nodeCount > 1000)

  t.match(logs.find((line) => line.msg.includes('heap snapshot starting')), { level: 30, snapshotId: body.id, heapUsedBytes: Number, expectedBlockMs: Number })
  t.match(logs.find((line) => line.msg.includes('heap snapshot written')), {
    level: 30, snapshotId: body.id, bytes: body.bytes, durationMs: Number, peakRssBytes: Number, extraRssBytes: Number, costFactor: Number
  })

  await snapshotsIdle(app)
  const memory = await app.inject({ method: 'GET', url: '/memory', headers })
  t.equal(memory.statusCode, 200)
  t.match(memory.json().snapshot, {
    allowed: true,
    reason: /within the .* available/,
    heapUsedBytes: Number,
    estimatedBytes: Number,
    availableBytes: Number,
    source: /^(system|cgroup-v1|cgroup-v2)$/,
    inProgress: false,
    last: { ...body }
  }, '/memory shows whether a snapshot is allowed and what the last one cost')

  const gzipped = await app.inject({ method: 'GET', url: `/heap-snapshot/${body.id}`, headers })
  t.equal(gzipped.statusCode, 200)
  t.equal(gzipped.headers['content-type'], 'application/gzip')
  t.equal(gzipped.headers['content-disposition'], `attachment; filename="heap-${body.id}.heapsnapshot.gz"`)
  t.equal(gzipped.headers['content-encoding'], undefined, 'a .gz file to save, not a transfer encoding')
  t.ok(gunzipSync(gzipped.rawPayload).equals(file), 'gunzips to the file')
  t.ok(gzipped.rawPayload.length * 3 <= file.length, `gzip level 1 is several times smaller (${file.length} → ${gzipped.rawPayload.length})`)

  const raw = await app.inject({ method: 'GET', url: `/heap-snapshot/${body.id}?gzip=false`, headers })
  t.equal(raw.statusCode, 200)
  t.equal(raw.headers['content-type'], 'application/octet-stream')
  t.equal(raw.headers['content-length'], String(file.length))
  t.equal(raw.headers['content-disposition'], `attachment; filename="heap-${body.id}.heapsnapshot"`)
  t.ok(raw.rawPayload.equals(file), 'the file as it is')

  const deleted = await app.inject({ method: 'DELETE', url: `/heap-snapshot/${body.id}`, headers })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  t.same(filesIn(dir), [])
  t.match(logs.find((line) => line.msg.includes('heap snapshot deleted')), { snapshotId: body.id })

  const gone = await app.inject({ method: 'GET', url: `/heap-snapshot/${body.id}`, headers })
  t.equal(gone.statusCode, 404)
  t.same(gone.json(), {
    statusCode: 404,
    code: 'FST_MEMDIAG_SNAPSHOT_NOT_FOUND',
    error: 'Not Found',
    message: 'No heap snapshot with this id (unknown, deleted or expired)'
  })
  const again = await app.inject({ method: 'DELETE', url: `/heap-snapshot/${body.id}`, headers })
  t.equal(again.statusCode, 404)
  t.equal(again.json().code, 'FST_MEMDIAG_SNAPSHOT_NOT_FOUND')
})
