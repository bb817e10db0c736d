// Snapshots and heap profiles uploaded through the plugin's routes to a real S3-API server
// (moto's, a child on 127.0.0.1), then listed and downloaded with the SDK and compared byte for
// byte with what the process wrote.
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import t from 'tap'
import { heapSnapshotShape, snapshotsIdle } from '../fixtures/snapshot-app.js'
import { build, tempDir, AUTH as headers, TOKEN } from '../helpers/build-app.js'
import { startChildApp } from '../helpers/child-app.js'
import { useEnv } from '../helpers/process-env.js'
import { startS3Server } from '../helpers/s3-server.js'

const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_')

t.test('uploads', async (t) => {
  const s3 = await startS3Server(t)
  useEnv(t, s3.env)
  await s3.createBucket('heaps')

  t.test('a real snapshot over HTTP: the 201 names the object, which gunzips to the local file; the presigned URL serves it', async (t) => {
    const dir = tempDir(t)
    const service = await startChildApp(t, 'test/fixtures/upload-app.ts', {
      ...s3.env,
      DIAGNOSTICS_TOKEN: TOKEN,
      SNAPSHOT_DIR: dir,
      UPLOAD_OPTIONS: JSON.stringify({ bucket: 'heaps', prefix: 'prod/api/', endpoint: s3.endpoint, forcePathStyle: true, presign: { expiresSeconds: 60 } })
    })
    const taken = await fetch(`${service.url}/_diagnostics/heap-snapshot`, { method: 'POST', headers })
    const body = await taken.json() as { id: string, durationMs: number, upload: { bucket: string, key: string, bytes: number, etag: string, url: string, urlExpiresAt: string, attempts: number, durationMs: number } }
    t.equal(taken.status, 201, JSON.stringify(body))
    const { id, upload } = body
    t.equal(upload.bucket, 'heaps')
    t.equal(upload.key, `prod/api/${host}/${service.pid}/heap-${id}.heapsnapshot.gz`)
    t.equal(upload.attempts, 1)
    t.match(upload.etag, /^"[0-9a-f]+(-\d+)?"$/)
    const local = readFileSync(`${dir}/heap-${id}.heapsnapshot`)
    t.ok(heapSnapshotShape(local.toString('utf8')).nodesMatchCount, 'a real V8 heap snapshot')
    t.comment(`snapshot of ${local.length} bytes written in ${body.durationMs} ms, uploaded (${upload.bytes} bytes) in ${upload.durationMs} ms`)

    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'heaps', Prefix: 'prod/api/' }))
    t.same(listed.Contents?.map((object) => [object.Key, object.Size]), [[upload.key, upload.bytes]], 'listed with the size the 201 says')
    const stored = await s3.download('heaps', upload.key)
    t.ok(gunzipSync(stored).equals(local), 'the object gunzips to the very bytes on disk')
    t.ok(upload.bytes < local.length / 3, `gzip'ed on the way: ${upload.bytes} of ${local.length} bytes`)

    t.match(upload.url, new RegExp(`^${s3.endpoint}/heaps/prod/api/.*X-Amz-Expires=60`))
    const viaUrl = await fetch(upload.url)
    t.equal(viaUrl.status, 200)
    t.ok(Buffer.from(await viaUrl.arrayBuffer()).equals(stored), 'the presigned GET serves the object')
    t.ok(Date.parse(upload.urlExpiresAt) - Date.now() <= 60_000)
  })

  t.test('?wait=false: the job status says uploading, then done with the object; removeLocalAfterUpload removes the file', async (t) => {
    const { app, dir } = await build(t, {
      upload: { bucket: 'heaps', endpoint: s3.endpoint, forcePathStyle: true, removeLocalAfterUpload: true }
    })
    const accepted = await app.inject({ method: 'POST', url: '/heap-snapshot?wait=false', headers })
    t.equal(accepted.statusCode, 202)
    const { id, location } = accepted.json()
    const seen = new Set<string>()
    let status
    for (;;) {
      status = (await app.inject({ method: 'GET', url: `${location}/status`, headers })).json()
      seen.add(status.status)
      if (status.status === 'done' || status.status === 'failed') break
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    t.equal(status.status, 'done')
    t.equal(status.snapshot.id, id)
    t.match(status.upload, { bucket: 'heaps', key: `${host}/${process.pid}/heap-${id}.heapsnapshot.gz`, attempts: 1 })
    t.equal(status.localFile, false, 'removed once uploaded')
    t.notOk(existsSync(`${dir}/heap-${id}.heapsnapshot`))
    t.ok(heapSnapshotShape(gunzipSync(await s3.download('heaps', status.upload.key)).toString('utf8')).nodesMatchCount)
    t.ok(seen.has('uploading') || seen.has('writing'), `statuses seen: ${[...seen].join(', ')}`)
    const gone = await app.inject({ method: 'GET', url: `/heap-snapshot/${id}`, headers })
    t.equal(gone.statusCode, 404)
    await snapshotsIdle(app)
  })

  t.test('?upload=false keeps a snapshot local; POST /heap-snapshot/:id/upload uploads it later', async (t) => {
    const { app, dir } = await build(t, { upload: { bucket: 'heaps', prefix: 'later/', endpoint: s3.endpoint, forcePathStyle: true } })
    const taken = await app.inject({ method: 'POST', url: '/heap-snapshot?upload=false', headers })
    t.equal(taken.statusCode, 201)
    t.notOk('upload' in taken.json())
    const { id } = taken.json()
    await snapshotsIdle(app)
    const uploaded = await app.inject({ method: 'POST', url: `/heap-snapshot/${id}/upload`, headers })
    t.equal(uploaded.statusCode, 201, uploaded.body)
    t.equal(uploaded.json().upload.key, `later/${host}/${process.pid}/heap-${id}.heapsnapshot.gz`)
    t.ok(gunzipSync(await s3.download('heaps', uploaded.json().upload.key)).equals(readFileSync(`${dir}/heap-${id}.heapsnapshot`)))
    const status = await app.inject({ method: 'GET', url: `/heap-snapshot/${id}/status`, headers })
    t.match(status.json(), { id, status: 'done', upload: { key: uploaded.json().upload.key }, localFile: true })
    const unknown = await app.inject({ method: 'POST', url: '/heap-snapshot/20200101T000000.000Z-0123456789abcdef/upload', headers })
    t.equal(unknown.statusCode, 404)
  })

  t.test('a heap profile: its JSON gzip\'ed, a pprof as it is (gzip\'ed already)', async (t) => {
    const { app } = await build(t, { upload: { bucket: 'heaps', prefix: 'profiles/', endpoint: s3.endpoint, forcePathStyle: true } })
    t.equal((await app.inject({ method: 'POST', url: '/heap-profile', headers })).statusCode, 201)
    const kept: unknown[] = []
    for (let i = 0; i < 2000; i++) kept.push({ i, text: `allocation ${i}`.repeat(20) })
    const json = await app.inject({ method: 'POST', url: '/heap-profile/upload', headers })
    t.equal(json.statusCode, 201, json.body)
    const { upload, takenAt, samples } = json.json()
    t.match(upload.key, new RegExp(`^profiles/${host}/${process.pid}/heap-profile-\\d{8}T\\d{6}\\.\\d{3}Z\\.heapprofile\\.gz$`))
    t.equal(upload.key.includes(takenAt.replace(/[-:]/g, '')), true)
    const profile = JSON.parse(gunzipSync(await s3.download('heaps', upload.key)).toString('utf8'))
    t.equal(profile.samples.length, samples)
    t.equal(profile.memoryDiagnostics.pid, process.pid)
    t.ok(profile.head.children !== undefined, 'a DevTools .heapprofile')

    const pprof = await app.inject({ method: 'POST', url: '/heap-profile/upload?format=pprof', headers })
    t.equal(pprof.statusCode, 201)
    t.match(pprof.json().upload.key, /\.pb\.gz$/)
    const stored = await s3.download('heaps', pprof.json().upload.key)
    t.ok(gunzipSync(stored).length > 0, 'one gzip layer: the pprof\'s own')
    t.notOk(gunzipSync(stored).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])), 'not gzip\'ed twice')
    t.equal(kept.length, 2000)
    await app.inject({ method: 'DELETE', url: '/heap-profile', headers })
  })

  t.test('without the upload option, asking for one is a 400', async (t) => {
    const { app } = await build(t)
    const refused = await app.inject({ method: 'POST', url: '/heap-snapshot?upload=true', headers })
    t.equal(refused.statusCode, 400)
    t.match(refused.json(), { code: 'FST_MEMDIAG_INVALID_REQUEST', message: /no object store is configured/ })
    const profile = await app.inject({ method: 'POST', url: '/heap-profile/upload', headers })
    t.equal(profile.statusCode, 400)
  })

  t.test('capture: what the plugin gathers by itself goes to the bucket too (the snapshot within its job, the profile file)', async (t) => {
    // the container at 60% of its 64 GiB limit, over capture.containerShare (a capture at the first
    // judgement), with room left for the snapshot the guard lets through
    const dir = t.testdir({
      proc: '4:memory:/web\n0::/\n',
      cgroup: { memory: { web: { 'memory.limit_in_bytes': '68719476736\n', 'memory.usage_in_bytes': '41231686041\n' } } }
    })
    const { app, logs } = await build(t, {
      upload: { bucket: 'heaps', prefix: 'captured/', endpoint: s3.endpoint, forcePathStyle: true },
      capture: { startAfterMs: 0, containerShare: 0.5, spacingMs: 1000 },
      trend: { intervalMs: 100 },
      cgroup: { root: join(dir, 'cgroup'), procSelfCgroup: join(dir, 'proc') }
    })
    const keys = async () => (await s3.client.send(new ListObjectsV2Command({ Bucket: 'heaps', Prefix: 'captured/' }))).Contents?.map((object) => object.Key!) ?? []
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline && !((await keys()).some((key) => key.endsWith('.heapsnapshot.gz')) && (await keys()).some((key) => key.endsWith('.heapprofile.gz')))) {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const stored = await keys()
    t.ok(stored.some((key) => new RegExp(`^captured/${host}/${process.pid}/heap-.+\\.heapsnapshot\\.gz$`).test(key)), `a captured snapshot uploaded: ${stored.join(', ')}`)
    const profileKey = stored.find((key) => key.endsWith('.heapprofile.gz'))
    t.ok(profileKey !== undefined, 'a captured heap profile uploaded')
    if (profileKey !== undefined) t.ok(JSON.parse(gunzipSync(await s3.download('heaps', profileKey)).toString('utf8')).head !== undefined, 'a .heapprofile')
    const captureLogs = logs.filter((line) => /capture/.test(line.msg)).map((line) => line.msg)
    t.ok(captureLogs.some((msg) => /captured heap snapshot uploaded/.test(msg)), `the upload of the capture is logged: ${[...new Set(captureLogs)].join(' | ')}`)
    await app.inject({ method: 'DELETE', url: '/heap-profile', headers })
  })

  t.test('the object store has no multipart upload left open', async (t) => {
    t.same(await s3.openUploads('heaps'), [])
  })
})
