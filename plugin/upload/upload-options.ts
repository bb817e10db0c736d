import { DEFAULTS } from '../defaults.js'
import { InvalidOptionError } from '../errors.js'
import { booleanOption, integerBetween, nonNegativeInteger, positiveInteger, stringOption } from '../option-checks.js'
import { SERVER_SIDE_ENCRYPTIONS } from '../types/options.js'
import type { ResolvedUpload, UploadOptions } from '../types/options.js'

const MIB = 1024 * 1024
// S3's own bounds: parts of 5 MiB at least (but the last), a presigned URL valid a week at most.
const PART_SIZE = { min: 5 * MIB, max: 512 * MIB }
const QUEUE_SIZE = { min: 1, max: 16 }
const PRESIGN_SECONDS = { min: 1, max: 604_800 }
const RETRIES = { min: 0, max: 10 }

const KNOWN = new Set<string>([
  'bucket', 'prefix', 'endpoint', 'region', 'forcePathStyle', 'storageClass', 'serverSideEncryption', 'sseKmsKeyId',
  'removeLocalAfterUpload', 'presign', 'retries', 'retryDelayMs', 'timeoutMs', 'partSizeBytes', 'queueSize'
] satisfies Array<keyof UploadOptions>)

// The options are logged, put in the incident bundle and shown in stack traces: a key there would
// leak. Whatever looks like a credential is refused by name, before any other check.
const CREDENTIAL_LIKE = /credential|secret|password|passwd|token|accesskey|access_key|sessionkey|apikey|api_key|signature|auth/i

const CREDENTIALS_HINT = 'credentials are never options (options get logged): the AWS SDK reads them from its default provider chain ' +
  '(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, the ECS or EC2 role); see docs/object-storage.md'

function optionalString (value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : stringOption(value, '', name)
}

function refuseCredentials (upload: object): void {
  for (const key of Object.keys(upload)) {
    if (CREDENTIAL_LIKE.test(key)) throw new InvalidOptionError(`\`upload.${key}\` is refused: ${CREDENTIALS_HINT}`)
  }
}

function resolvePresign (presign: unknown): number | null {
  if (presign === undefined) return null
  if (presign === null || typeof presign !== 'object') {
    throw new InvalidOptionError('`upload.presign` must be an object `{ expiresSeconds }`')
  }
  refuseCredentials(presign)
  const expires = (presign as { expiresSeconds?: unknown }).expiresSeconds
  if (expires === undefined) throw new InvalidOptionError('`upload.presign.expiresSeconds` is required: how long the presigned GET URL is valid')
  return integerBetween(PRESIGN_SECONDS, expires, 0, 'upload.presign.expiresSeconds')
}

function resolveEndpoint (endpoint: unknown): string | undefined {
  const url = optionalString(endpoint, 'upload.endpoint')
  if (url === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidOptionError(`\`upload.endpoint\` must be a URL such as https://minio.internal:9000, got ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidOptionError(`\`upload.endpoint\` must be an http: or https: URL, got ${parsed.protocol}`)
  }
  if (parsed.username !== '' || parsed.password !== '') throw new InvalidOptionError(`\`upload.endpoint\` must not carry a user or password: ${CREDENTIALS_HINT}`)
  return url
}

/** The `upload` option checked, its defaults filled in; null when it is left out. */
export function resolveUpload (upload: UploadOptions | undefined): ResolvedUpload | null {
  if (upload === undefined) return null
  if (upload === null || typeof upload !== 'object' || Array.isArray(upload)) {
    throw new InvalidOptionError('`upload` must be an object `{ bucket, prefix?, endpoint?, region?, ... }`')
  }
  refuseCredentials(upload)
  const unknown = Object.keys(upload).filter((key) => !KNOWN.has(key))
  if (unknown.length > 0) {
    throw new InvalidOptionError(`unknown \`upload\` option${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `\`${key}\``).join(', ')}: known are ${[...KNOWN].join(', ')}`)
  }
  if (upload.bucket === undefined) throw new InvalidOptionError('`upload.bucket` is required')
  const defaults = DEFAULTS.upload
  const prefix = upload.prefix === undefined ? defaults.prefix : typeof upload.prefix === 'string' ? upload.prefix : null
  if (prefix === null) throw new InvalidOptionError('`upload.prefix` must be a string')
  const serverSideEncryption = upload.serverSideEncryption
  if (serverSideEncryption !== undefined && !(SERVER_SIDE_ENCRYPTIONS as readonly unknown[]).includes(serverSideEncryption)) {
    throw new InvalidOptionError(`\`upload.serverSideEncryption\` must be one of ${SERVER_SIDE_ENCRYPTIONS.join(', ')}, got ${JSON.stringify(serverSideEncryption)}`)
  }
  const sseKmsKeyId = optionalString(upload.sseKmsKeyId, 'upload.sseKmsKeyId')
  if (sseKmsKeyId !== undefined && serverSideEncryption?.startsWith('aws:kms') !== true) {
    throw new InvalidOptionError('`upload.sseKmsKeyId` needs `upload.serverSideEncryption: \'aws:kms\'` (or \'aws:kms:dsse\')')
  }
  const resolved: ResolvedUpload = {
    bucket: stringOption(upload.bucket, '', 'upload.bucket'),
    prefix,
    forcePathStyle: booleanOption(upload.forcePathStyle, defaults.forcePathStyle, 'upload.forcePathStyle'),
    removeLocalAfterUpload: booleanOption(upload.removeLocalAfterUpload, defaults.removeLocalAfterUpload, 'upload.removeLocalAfterUpload'),
    retries: integerBetween(RETRIES, upload.retries, defaults.retries, 'upload.retries'),
    retryDelayMs: nonNegativeInteger(upload.retryDelayMs, defaults.retryDelayMs, 'upload.retryDelayMs'),
    timeoutMs: positiveInteger(upload.timeoutMs, defaults.timeoutMs, 'upload.timeoutMs'),
    partSizeBytes: integerBetween(PART_SIZE, upload.partSizeBytes, defaults.partSizeBytes, 'upload.partSizeBytes'),
    queueSize: integerBetween(QUEUE_SIZE, upload.queueSize, defaults.queueSize, 'upload.queueSize'),
    presignExpiresSeconds: resolvePresign(upload.presign)
  }
  const endpoint = resolveEndpoint(upload.endpoint)
  const region = optionalString(upload.region, 'upload.region')
  const storageClass = optionalString(upload.storageClass, 'upload.storageClass')
  return {
    ...resolved,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(storageClass === undefined ? {} : { storageClass }),
    ...(serverSideEncryption === undefined ? {} : { serverSideEncryption }),
    ...(sseKmsKeyId === undefined ? {} : { sseKmsKeyId })
  }
}
