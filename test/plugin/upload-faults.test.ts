// Uploads that fail: a missing bucket, credentials the store refuses, the network cut in the
// middle of a part, a store that stops answering, the plugin closed during an upload. Each ends
// with the error in the job status and the log, no multipart upload left open on the server,
// the local file kept (and uploadable once the fault is gone), the lock released and the other
// routes answering. Real sockets throughout: the SDK talks to moto's server through a TCP proxy
// that breaks the connections.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { snapshotsIdle } from '../fixtures/snapshot-app.js'
import { build, AUTH as headers } from '../helpers/build-app.js'
import type { Teardown } from '../helpers/build-app.js'
import { startFaultProxy } from '../helpers/fault-proxy.js'
import { startS3Server } from '../helpers/s3-server.js'
import type { S3Server } from '../helpers/s3-server.js'
import type { UploadOptions } from '../../plugin/index.js'
import { useEnv } from '../helpers/process-env.js'

const MIB = 1024 * 1024
// Base64 of random bytes: gzip keeps about 3/4 of it, so 12 MiB make a two-part upload of 5 MiB parts.
const SNAPSHOT = Buffer.from(randomBytes(9 * MIB).toString('base64'))
const writeSnapshot = (path: string) => { writeFileSync(path, SNAPSHOT) }

interface Setup {
  app: FastifyInstance
  dir: string
  url: string
  logs: Array<{ level: number, msg: string, [field: string]: unknown }>
}

async function serve (t: Teardown, upload: UploadOptions): Promise<Setup> {
  const { app, dir, logs } = await build(t, {
    upload: { forcePathStyle: true, partSizeBytes: 5 * MIB, retries: 1, retryDelayMs: 20, timeoutMs: 2000, ...upload }
  }, { writeHeap: writeSnapshot })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, dir, url, logs }
}

async function post (url: string): Promise<{ status: number, body: any }> {
  const response = await fetch(url, { method: 'POST', headers })
  return { status: response.status, body: await response.json() }
}

async function jobStatus (url: string, id: string): Promise<any> {
  return await (await fetch(`${url}/heap-snapshot/${id}/status`, { headers })).json()
}

/** What every fault must leave: the file, a free lock, a healthy process, nothing open on the store. */
async function assertClean (t: Test, { app, dir, url }: Setup, s3: S3Server, id: string): Promise<void> {
  t.ok(existsSync(`${dir}/heap-${id}.heapsnapshot`), 'the local file is kept for a retry')
  const status = await jobStatus(url, id)
  t.equal(status.status, 'done', 'the job is over')
  t.equal(status.localFile, true)
  await snapshotsIdle(app)
  const memory = await fetch(`${url}/memory`, { headers })
  t.equal(memory.status, 200, 'the process answers')
  t.equal(((await memory.json()) as { snapshot: { inProgress: boolean } }).snapshot.inProgress, false, 'the lock is released')
  t.same(await s3.openUploads('heaps'), [], 'no multipart upload left open on the store')
}

/** Once the fault is gone, the kept file uploads, byte for byte. */
async function assertRetryUploads (t: Test, { url }: Setup, s3: S3Server, id: string): Promise<void> {
  const retried = await post(`${url}/heap-snapshot/${id}/upload`)
  t.equal(retried.status, 201, JSON.stringify(retried.body))
  t.ok(gunzipSync(await s3.download('heaps', retried.body.upload.key)).equals(SNAPSHOT), 'the retry uploads the kept file')
}

t.test('upload faults', async (t) => {
  const s3 = await startS3Server(t)
  useEnv(t, s3.env)
  await s3.createBucket('heaps')

  t.test('a missing bucket: NoSuchBucket in the 201 and the log, not retried', async (t) => {
    const setup = await serve(t, { bucket: 'no-such-bucket', endpoint: s3.endpoint })
    const taken = await post(`${setup.url}/heap-snapshot`)
    t.equal(taken.status, 201, 'the snapshot was taken: its upload failed')
    t.match(taken.body.upload, { bucket: 'no-such-bucket', attempts: 1, error: { code: 'NoSuchBucket', message: /does not exist.*upload\.bucket/ } })
    t.ok(setup.logs.some((line) => line.level === 50 && line.code === 'NoSuchBucket' && /failed; the local file is kept/.test(line.msg)), 'logged as an error')
    await assertClean(t, setup, s3, taken.body.id)
  })

  t.test('credentials the store refuses: a wrong secret, an unknown key (403), not retried', async (t) => {
    const checked = await startS3Server(t, { checkSignatures: true })
    await checked.createBucket('heaps')
    for (const [env, code] of [
      [{ AWS_SECRET_ACCESS_KEY: 'not-the-secret-0123456789abcdefghijklmn' }, 'SignatureDoesNotMatch'],
      [{ AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000' }, 'InvalidAccessKeyId']
    ] as const) {
      await t.test(code, async (t) => {
        useEnv(t, { ...checked.env, ...env })
        const setup = await serve(t, { bucket: 'heaps', endpoint: checked.endpoint })
        const taken = await post(`${setup.url}/heap-snapshot`)
        t.equal(taken.status, 201)
        t.match(taken.body.upload, { attempts: 1, error: { code, message: /HTTP 403/ } })
        await assertClean(t, setup, checked, taken.body.id)
      })
    }
    t.same(await checked.openUploads('heaps'), [])
  })

  t.test('the network cut in the middle of each part: retried, then the error; the multipart upload aborted', async (t) => {
    const proxy = await startFaultProxy(t, s3.port, { kind: 'cut', bytes: 2 * MIB })
    const setup = await serve(t, { bucket: 'heaps', endpoint: proxy.endpoint })
    const taken = await post(`${setup.url}/heap-snapshot`)
    t.equal(taken.status, 201)
    const { upload } = taken.body
    t.equal(upload.attempts, 2, 'tried again once (`retries: 1`)')
    t.match(upload.error.code, /^(ECONNRESET|EPIPE|ECONNABORTED|UND_ERR_SOCKET)$/, `a network error: ${upload.error.code}: ${upload.error.message}`)
    t.ok(proxy.hits >= 2, `${proxy.hits} connections cut mid-part`)
    t.ok(setup.logs.some((line) => line.level === 40 && /retrying/.test(line.msg)), 'the first failure logged as a warning')
    await assertClean(t, setup, s3, taken.body.id)
    proxy.fault = { kind: 'none' }
    await assertRetryUploads(t, setup, s3, taken.body.id)
  })

  t.test('a store that stops answering mid-part: the request times out, other routes answer meanwhile', async (t) => {
    const proxy = await startFaultProxy(t, s3.port, { kind: 'stall', bytes: MIB })
    const setup = await serve(t, { bucket: 'heaps', endpoint: proxy.endpoint, retries: 0, timeoutMs: 500 })
    const accepted = await post(`${setup.url}/heap-snapshot?wait=false`)
    t.equal(accepted.status, 202)
    const { id } = accepted.body
    await until(async () => (await jobStatus(setup.url, id)).status === 'uploading' && proxy.hits > 0)
    const started = performance.now()
    const memory = await fetch(`${setup.url}/memory`, { headers })
    t.equal(memory.status, 200, 'GET /memory answers during the stalled upload')
    t.equal((await jobStatus(setup.url, id)).status, 'uploading', 'while the upload still waits on the store')
    t.comment(`GET /memory answered in ${Math.round(performance.now() - started)} ms during the stall`)
    await until(async () => (await jobStatus(setup.url, id)).status === 'done')
    const { upload } = await jobStatus(setup.url, id)
    t.match(upload, { attempts: 1, error: { code: /Timeout|ECONNRESET/ } }, `${upload.error.code}: ${upload.error.message}`)
    await assertClean(t, setup, s3, id)
  })

  t.test('a slow store (each chunk held back): the upload completes, other routes answer meanwhile', async (t) => {
    const proxy = await startFaultProxy(t, s3.port, { kind: 'delay', ms: 2 })
    const setup = await serve(t, { bucket: 'heaps', endpoint: proxy.endpoint })
    const accepted = await post(`${setup.url}/heap-snapshot?wait=false`)
    const { id } = accepted.body
    await until(async () => (await jobStatus(setup.url, id)).status === 'uploading')
    t.equal((await fetch(`${setup.url}/memory`, { headers })).status, 200)
    t.equal((await jobStatus(setup.url, id)).status, 'uploading', 'GET /memory answered while the upload went on')
    await until(async () => (await jobStatus(setup.url, id)).status === 'done')
    const { upload } = await jobStatus(setup.url, id)
    t.notOk('error' in upload, JSON.stringify(upload))
    t.ok(gunzipSync(await s3.download('heaps', upload.key)).equals(readFileSync(`${setup.dir}/heap-${id}.heapsnapshot`)))
    await snapshotsIdle(setup.app)
  })

  t.test('closing the plugin during an upload aborts it: close returns, nothing is left open on the store', async (t) => {
    const proxy = await startFaultProxy(t, s3.port, { kind: 'stall', bytes: MIB })
    const setup = await serve(t, { bucket: 'heaps', endpoint: proxy.endpoint, timeoutMs: 60_000 })
    const accepted = await post(`${setup.url}/heap-snapshot?wait=false`)
    const { id } = accepted.body
    await until(async () => (await jobStatus(setup.url, id)).status === 'uploading' && proxy.hits > 0)
    // the part's multipart upload exists on the server now
    await until(async () => (await s3.openUploads('heaps')).length > 0)
    const started = performance.now()
    await setup.app.close()
    t.comment(`closed in ${Math.round(performance.now() - started)} ms with a stalled upload (its request timeout: 60 s)`)
    t.same(await s3.openUploads('heaps'), [], 'the multipart upload was aborted')
    t.ok(existsSync(`${setup.dir}/heap-${id}.heapsnapshot`), 'the local file is kept')
    t.ok(setup.logs.some((line) => line.code === 'UploadAborted'), 'logged as aborted')
  })
})

async function until (condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
