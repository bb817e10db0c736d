// The `upload` option's gate, the objects' keys and what an upload failure is said to be: fast,
// no store needed (registration fails before anything is opened).
import { hostname } from 'node:os'
import t from 'tap'
import type { Test } from 'tap'
import Fastify from 'fastify'
import { memoryDiagnostics } from '../../plugin/index.js'
import type { UploadOptions } from '../../plugin/index.js'
import { DEFAULTS } from '../../plugin/defaults.js'
import { heapProfileFileName, objectKey } from '../../plugin/upload/object-key.js'
import { resolveUpload } from '../../plugin/upload/upload-options.js'
import { backoffMs, describeUploadFailure } from '../../plugin/upload/upload-failure.js'
import { tempDir, TOKEN } from '../helpers/build-app.js'

async function register (t: Test, upload: unknown): Promise<void> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, snapshot: { dir: tempDir(t) }, upload: upload as UploadOptions })
  await app.ready()
}

t.test('credentials in the options fail registration, pointing at the SDK\'s chain', async (t) => {
  for (const key of ['credentials', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'AWS_SECRET_ACCESS_KEY', 'password', 'apiKey']) {
    await t.rejects(register(t, { bucket: 'b', [key]: 'x' }), {
      code: 'FST_MEMDIAG_INVALID_OPTION',
      message: new RegExp(`\`upload\\.${key}\` is refused: credentials are never options .*AWS_ACCESS_KEY_ID.*default provider chain|default provider chain.*AWS_ACCESS_KEY_ID`)
    }, key)
  }
  t.throws(() => resolveUpload({ bucket: 'b', presign: { expiresSeconds: 60, accessKeyId: 'x' } as never }), /`upload\.accessKeyId` is refused/)
  t.throws(() => resolveUpload({ bucket: 'b', endpoint: 'https://user:pass@minio.internal' }), /must not carry a user or password/)
})

t.test('every other mistake fails registration with the option named', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['bucket', /`upload` must be an object/],
    [{}, /`upload\.bucket` is required/],
    [{ bucket: '' }, /`upload\.bucket` must be a non-empty string/],
    [{ bucket: 'b', buckt: 'x' }, /unknown `upload` option `buckt`: known are bucket, prefix/],
    [{ bucket: 'b', prefix: 3 }, /`upload\.prefix` must be a string/],
    [{ bucket: 'b', endpoint: 'minio:9000' }, /`upload\.endpoint` must be an http: or https: URL|must be a URL/],
    [{ bucket: 'b', endpoint: 'not a url' }, /`upload\.endpoint` must be a URL/],
    [{ bucket: 'b', forcePathStyle: 'yes' }, /`upload\.forcePathStyle` must be a boolean/],
    [{ bucket: 'b', serverSideEncryption: 'rot13' }, /`upload\.serverSideEncryption` must be one of AES256, aws:kms, aws:kms:dsse/],
    [{ bucket: 'b', sseKmsKeyId: 'k' }, /`upload\.sseKmsKeyId` needs `upload\.serverSideEncryption: 'aws:kms'`/],
    [{ bucket: 'b', presign: 60 }, /`upload\.presign` must be an object/],
    [{ bucket: 'b', presign: {} }, /`upload\.presign\.expiresSeconds` is required/],
    [{ bucket: 'b', presign: { expiresSeconds: 604_801 } }, /`upload\.presign\.expiresSeconds` must be an integer from 1 to 604800/],
    [{ bucket: 'b', partSizeBytes: 1024 }, /`upload\.partSizeBytes` must be an integer from 5242880 to 536870912/],
    [{ bucket: 'b', queueSize: 0 }, /`upload\.queueSize` must be an integer from 1 to 16/],
    [{ bucket: 'b', retries: 11 }, /`upload\.retries` must be an integer from 0 to 10/],
    [{ bucket: 'b', timeoutMs: 0 }, /`upload\.timeoutMs` must be a positive integer/]
  ]
  for (const [upload, message] of cases) {
    await t.rejects(register(t, upload), { code: 'FST_MEMDIAG_INVALID_OPTION', message }, JSON.stringify(upload))
  }
})

t.test('defaults are filled in; the caller\'s object is not touched', async (t) => {
  const given = { bucket: 'heaps', presign: { expiresSeconds: 300 } }
  const frozen = structuredClone(given)
  const resolved = resolveUpload(given)
  t.same(given, frozen)
  t.same(resolved, { ...DEFAULTS.upload, bucket: 'heaps', presignExpiresSeconds: 300 })
  t.equal(resolveUpload(undefined), null)
  t.match(resolveUpload({ bucket: 'b', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-3', storageClass: 'STANDARD_IA', serverSideEncryption: 'aws:kms', sseKmsKeyId: 'alias/heaps' }),
    { endpoint: 'http://127.0.0.1:9000', region: 'eu-west-3', storageClass: 'STANDARD_IA', serverSideEncryption: 'aws:kms', sseKmsKeyId: 'alias/heaps' })
})

t.test('keys: prefix, hostname, pid, then the capture\'s own name; unsafe characters replaced', async (t) => {
  const name = 'heap-20261202T040000.000Z-0123456789abcdef.heapsnapshot'
  t.equal(objectKey({ prefix: 'prod/api/', name, hostname: 'api-7d9f-xk2p', pid: 1 }), `prod/api/api-7d9f-xk2p/1/${name}.gz`)
  t.equal(objectKey({ prefix: '', name, hostname: 'host/with spaces', pid: 42 }), `host_with_spaces/42/${name}.gz`)
  t.equal(objectKey({ prefix: 'x-', name, hostname: '..', pid: 42 }), `x-_/42/${name}.gz`, 'no path traversal through the hostname')
  t.equal(objectKey({ prefix: '', name }), `${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}/${process.pid}/${name}.gz`, 'this process by default')
  t.equal(heapProfileFileName('2026-12-02T04:00:00.123Z', 'heapprofile'), 'heap-profile-20261202T040000.123Z.heapprofile')
  t.equal(heapProfileFileName('2026-12-02T04:00:00.123Z', 'pprof'), 'heap-profile-20261202T040000.123Z.pb')
})

t.test('failures: the store\'s code, a hint, and whether retrying may help', async (t) => {
  const sdkError = (name: string, status: number) => Object.assign(new Error(`${name} says no`), { name, $metadata: { httpStatusCode: status } })
  t.match(describeUploadFailure(sdkError('NoSuchBucket', 404)), { code: 'NoSuchBucket', retryable: false, message: /HTTP 404.*upload\.bucket/ })
  t.match(describeUploadFailure(sdkError('AccessDenied', 403)), { code: 'AccessDenied', retryable: false, message: /s3:PutObject/ })
  t.match(describeUploadFailure(sdkError('SignatureDoesNotMatch', 403)), { code: 'SignatureDoesNotMatch', retryable: false })
  t.match(describeUploadFailure(sdkError('InternalError', 500)), { code: 'InternalError', retryable: true })
  t.match(describeUploadFailure(sdkError('SlowDown', 503)), { code: 'SlowDown', retryable: true })
  t.match(describeUploadFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), { code: 'ECONNRESET', retryable: true })
  t.match(describeUploadFailure(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) })), { code: 'EPIPE', retryable: true })
  t.match(describeUploadFailure(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })), { code: 'TimeoutError', retryable: true })
  t.match(describeUploadFailure(Object.assign(new Error('Upload aborted.'), { name: 'AbortError' })), { code: 'UploadAborted', retryable: false })
  t.match(describeUploadFailure(Object.assign(new Error('gone'), { name: 'LocalFileMissing' })), { code: 'LocalFileMissing', retryable: false })
  t.match(describeUploadFailure('a string'), { code: 'UploadFailed', message: 'a string' })
})

t.test('backoff doubles from the base, its upper half random', async (t) => {
  t.same([1, 2, 3].map((attempt) => backoffMs(attempt, 1000, () => 0)), [500, 1000, 2000])
  t.same([1, 2, 3].map((attempt) => backoffMs(attempt, 1000, () => 1)), [1000, 2000, 4000])
})
