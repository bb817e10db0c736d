import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { performance } from 'node:perf_hooks'
import { Transform, pipeline } from 'node:stream'
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { createGzip } from 'node:zlib'
import type { FastifyBaseLogger } from 'fastify'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Upload } from '@aws-sdk/lib-storage'
import type { ResolvedUpload } from '../types/options.js'
import type { FailedUpload, UploadedObject, UploadReport } from '../types/reports.js'
import { objectKey } from './object-key.js'
import type { AwsSdk } from './sdk.js'
import { backoffMs, describeUploadFailure } from './upload-failure.js'

// Level 1, as for downloads: a heap snapshot's JSON shrinks 5-10× at the lowest CPU cost.
const GZIP_LEVEL = 1
// The SDK's own attempts per request (a part, the completion), under our retries of whole uploads.
const SDK_MAX_ATTEMPTS = 3
// Rounds of "list what is left of this key's multipart uploads, abort it": a part still in flight
// when an upload was aborted can recreate nothing, but S3 documents that an abort may need repeating.
const CLEANUP_ROUNDS = 3
const CLEANUP_TIMEOUT_MS = 10_000

/** What to upload: bytes read afresh for each attempt. */
export interface UploadSource {
  /** The file name, which the key ends with (`heap-<id>.heapsnapshot`), before `.gz`. */
  name: string
  /** A new stream of the bytes from their start; called once per attempt. */
  open: () => Promise<Readable>
  /** Compress on the way; false for what is compressed already (a pprof). */
  gzip: boolean
}

export interface ObjectStore {
  readonly bucket: string
  /** Uploads with retries; never throws: a failure is the report's `error`. */
  upload (source: UploadSource, log: FastifyBaseLogger): Promise<UploadReport>
  /** Aborts the uploads in flight (their multipart uploads aborted on the store), stops retries, closes the client. */
  close (): Promise<void>
}

export function isFailedUpload (report: UploadReport): report is FailedUpload {
  return 'error' in report
}

export function createObjectStore (sdk: AwsSdk, options: ResolvedUpload): ObjectStore {
  const { bucket } = options
  // Our own agents, so that close() ends the sockets of parts still in flight.
  const agentOptions = { keepAlive: true, maxSockets: options.queueSize + 2 }
  const httpAgent = new HttpAgent(agentOptions)
  const httpsAgent = new HttpsAgent(agentOptions)
  const client: S3Client = new sdk.s3.S3Client({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    // the SDK's chain first; a store that ignores regions (MinIO) still needs one to sign
    region: options.region ?? (process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'),
    forcePathStyle: options.forcePathStyle,
    maxAttempts: SDK_MAX_ATTEMPTS,
    // an inactivity timeout (a stalled store), not a total one: a big part on a slow link is no failure
    requestHandler: { socketTimeout: options.timeoutMs, connectionTimeout: options.timeoutMs, httpAgent, httpsAgent }
  })
  const inFlight = new Set<Upload>()
  const running = new Set<Promise<UploadReport>>()
  const closing = new AbortController()

  function objectParams (key: string, body: Readable) {
    return {
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: 'application/gzip',
      ...(options.storageClass === undefined ? {} : { StorageClass: options.storageClass as never }),
      ...(options.serverSideEncryption === undefined ? {} : { ServerSideEncryption: options.serverSideEncryption }),
      ...(options.sseKmsKeyId === undefined ? {} : { SSEKMSKeyId: options.sseKmsKeyId })
    }
  }

  async function attempt (key: string, source: UploadSource): Promise<{ etag: string | undefined, bytes: number }> {
    const input = await source.open()
    let bytes = 0
    const counter = new Transform({
      transform (chunk: Buffer, _encoding, callback) {
        bytes += chunk.length
        callback(null, chunk)
      }
    })
    // errors travel down to `counter`, which the upload reads and so fails with
    const body = source.gzip ? pipeline(input, createGzip({ level: GZIP_LEVEL }), counter, () => {}) : pipeline(input, counter, () => {})
    const upload = new sdk.storage.Upload({
      client,
      params: objectParams(key, body),
      partSize: options.partSizeBytes,
      queueSize: options.queueSize,
      leavePartsOnError: false
    })
    inFlight.add(upload)
    try {
      if (closing.signal.aborted) await upload.abort()
      const result = await upload.done()
      return { etag: result.ETag, bytes }
    } finally {
      inFlight.delete(upload)
      body.destroy()
      input.destroy()
    }
  }

  /** Our own check behind lib-storage's abort (which may itself fail on a cut network): nothing of this key may stay half-uploaded. */
  async function abortLeftovers (key: string, log: FastifyBaseLogger): Promise<void> {
    for (let round = 0; round < CLEANUP_ROUNDS; round++) {
      try {
        const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS)
        const listed = await client.send(new sdk.s3.ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }), { abortSignal: signal })
        const left = (listed.Uploads ?? []).filter((upload) => upload.Key === key && upload.UploadId !== undefined)
        if (left.length === 0) return
        for (const upload of left) {
          await client.send(new sdk.s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }), { abortSignal: signal })
        }
        log.info({ bucket, key, aborted: left.length }, 'fastify-memory-diagnostics: aborted what a failed upload left on the store')
      } catch (error) {
        const failure = describeUploadFailure(error)
        if (!failure.retryable || round === CLEANUP_ROUNDS - 1) {
          log.warn({ bucket, key, code: failure.code, err: error },
            'fastify-memory-diagnostics: could not check that a failed upload left no parts on the store; a lifecycle rule that aborts incomplete multipart uploads cleans them up')
          return
        }
      }
    }
  }

  async function presignedUrl (key: string): Promise<{ url: string, urlExpiresAt: string } | null> {
    const seconds = options.presignExpiresSeconds
    if (seconds === null || sdk.presigner === null) return null
    const url = await sdk.presigner.getSignedUrl(client, new sdk.s3.GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds })
    return { url, urlExpiresAt: new Date(Date.now() + seconds * 1000).toISOString() }
  }

  async function uploadWithRetries (source: UploadSource, log: FastifyBaseLogger): Promise<UploadReport> {
    const key = objectKey({ prefix: options.prefix, name: source.name })
    const started = performance.now()
    for (let attempts = 1; ; attempts++) {
      try {
        const { etag, bytes } = await attempt(key, source)
        const durationMs = Math.round(performance.now() - started)
        const presigned = await presignedUrl(key)
        const uploaded: UploadedObject = { bucket, key, bytes, ...(etag === undefined ? {} : { etag }), ...presigned, attempts, durationMs }
        log.info({ bucket, key, bytes, attempts, durationMs }, 'fastify-memory-diagnostics: uploaded to the object store')
        return uploaded
      } catch (error) {
        const failure = describeUploadFailure(closing.signal.aborted ? Object.assign(new Error('the plugin closed during the upload'), { name: 'AbortError' }) : error)
        await abortLeftovers(key, log)
        const last = !failure.retryable || attempts > options.retries || closing.signal.aborted
        log[last ? 'error' : 'warn']({ bucket, key, attempts, code: failure.code, err: error },
          last ? 'fastify-memory-diagnostics: upload to the object store failed; the local file is kept' : 'fastify-memory-diagnostics: upload to the object store failed; retrying')
        if (last) return { bucket, key, attempts, error: { code: failure.code, message: failure.message } }
        await sleep(backoffMs(attempts, options.retryDelayMs), undefined, { signal: closing.signal }).catch(() => {})
      }
    }
  }

  return {
    bucket,

    upload (source, log) {
      if (closing.signal.aborted) {
        return Promise.resolve({ bucket, key: objectKey({ prefix: options.prefix, name: source.name }), attempts: 0, error: { code: 'UploadAborted', message: 'the plugin is closing' } })
      }
      const report = uploadWithRetries(source, log)
      running.add(report)
      report.finally(() => running.delete(report)).catch(() => {})
      return report
    },

    async close () {
      closing.abort()
      await Promise.all([...inFlight].map((upload) => upload.abort()))
      await Promise.allSettled([...running])
      client.destroy()
      httpAgent.destroy()
      httpsAgent.destroy()
    }
  }
}
