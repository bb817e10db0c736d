// A real S3-API server for the upload tests: moto's server (Python), which this kind of machine's
// image ships (moto 5.2.1), started as a child on 127.0.0.1 with a free port and its spool
// directory in a temporary directory, and killed in teardown. Chosen over s3rver (npm), which
// has no AbortMultipartUpload and no ListMultipartUploads (both answer NotImplemented or
// MethodNotAllowed), so that the tests could not prove that no part is left on the store; moto
// has them, checks SigV4 signatures against its IAM users, and answers NoSuchBucket as S3 does.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand, GetObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3'
import type { Teardown } from './build-app.js'

export interface S3Server {
  /** `http://127.0.0.1:port`. */
  endpoint: string
  port: number
  /** An IAM user's key pair allowed `s3:*`. */
  accessKeyId: string
  secretAccessKey: string
  /** A client straight to the server (no proxy), with the user's keys. */
  client: S3Client
  /** Creates a bucket. */
  createBucket (name: string): Promise<void>
  /** The multipart uploads still open in a bucket (what a failed upload must not leave). */
  openUploads (bucket: string): Promise<Array<{ key: string, uploadId: string }>>
  /** An object's bytes, downloaded with the SDK. */
  download (bucket: string, key: string): Promise<Buffer>
  /** The environment the SDK's default chain reads these credentials from. */
  env: Record<string, string>
}

/** A port free now on 127.0.0.1 (werkzeug prints `:0` when given port 0). */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

// The first three requests are let through unsigned (moto's INITIAL_NO_AUTH_ACTION_COUNT) to
// create the IAM user, its policy and its key; every request after them is authenticated.
const SETUP_ACTIONS = 3
const S3_ALL = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] })

async function iam (endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    // moto routes by the credential scope's service; the signature of these first requests is not checked
    headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0' },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`moto IAM ${params.Action} answered ${response.status}: ${text}`)
  return text
}

function xmlField (xml: string, name: string): string {
  const match = new RegExp(`<${name}>([^<]+)</${name}>`).exec(xml)
  if (match === null) throw new Error(`no <${name}> in ${xml}`)
  return match[1] as string
}

async function waitUntilListening (endpoint: string, stderr: () => string, exited: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 60_000
  const state = { gone: false }
  exited.then(() => { state.gone = true }, () => { state.gone = true })
  while (Date.now() < deadline && !state.gone) {
    try {
      await fetch(`${endpoint}/moto-api/`)
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`moto's server did not start${state.gone ? ' (it exited)' : ' within 60 s'}: is moto installed (python3 -m pip install 'moto[server]')?\n${stderr()}`)
}

export interface S3ServerOptions {
  /**
   * Check every request's signature against the IAM user (an unknown key, a wrong secret: 403).
   * moto then fails presigned URLs (500) and signed queries with a '/' in a parameter: off, the
   * server takes any credentials.
   */
  checkSignatures?: boolean
}

export async function startS3Server (t: Teardown, { checkSignatures = false }: S3ServerOptions = {}): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-moto-'))
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, TMPDIR: dir, ...(checkSignatures ? { INITIAL_NO_AUTH_ACTION_COUNT: String(SETUP_ACTIONS) } : {}) },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20_000) })
  const exited = once(child, 'exit')
  let client: S3Client | null = null
  t.teardown(async () => {
    client?.destroy()
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  })
  await waitUntilListening(endpoint, () => stderr, exited)
  await iam(endpoint, { Action: 'CreateUser', UserName: 'diagnostics' })
  await iam(endpoint, { Action: 'PutUserPolicy', UserName: 'diagnostics', PolicyName: 's3-all', PolicyDocument: S3_ALL })
  const key = await iam(endpoint, { Action: 'CreateAccessKey', UserName: 'diagnostics' })
  const accessKeyId = xmlField(key, 'AccessKeyId')
  const secretAccessKey = xmlField(key, 'SecretAccessKey')
  client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } })
  const direct = client
  return {
    endpoint,
    port,
    accessKeyId,
    secretAccessKey,
    client: direct,
    async createBucket (name) {
      await direct.send(new CreateBucketCommand({ Bucket: name }))
    },
    async openUploads (bucket) {
      const listed = await direct.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
      return (listed.Uploads ?? []).map((upload) => ({ key: upload.Key ?? '', uploadId: upload.UploadId ?? '' }))
    },
    async download (bucket, key) {
      const object = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return Buffer.from(await object.Body!.transformToByteArray())
    },
    env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: 'us-east-1' }
  }
}
