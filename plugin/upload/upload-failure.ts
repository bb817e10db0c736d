// What went wrong with an upload, as the job status and the log tell it, and whether trying
// again may help. The SDK's errors carry the store's own code (`NoSuchBucket`, `AccessDenied`,
// `SignatureDoesNotMatch`) in `name` and the HTTP status in `$metadata`; network failures carry
// Node's errno code (`ECONNRESET`) or the SDK's timeout name.

export interface UploadFailure {
  /** The store's error code, Node's errno code, or `UploadAborted` when the plugin closed. */
  code: string
  message: string
  /** Whether a later attempt may succeed (network, timeout, 5xx, throttling). */
  retryable: boolean
}

interface SdkLikeError {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
  $retryable?: unknown
  Code?: string
  cause?: unknown
}

// Refused for good: trying again with the same credentials and bucket gives the same answer.
const PERMANENT = new Set([
  'NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken',
  'AllAccessDisabled', 'AccountProblem', 'InvalidBucketName', 'InvalidStorageClass', 'InvalidArgument', 'KMS.NotFoundException',
  'CredentialsProviderError', 'UploadAborted', 'LocalFileMissing'
])

const HINTS: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist (check `upload.bucket`, `upload.region` and `upload.endpoint`)',
  AccessDenied: 'the credentials the SDK found may not write to this bucket (s3:PutObject, s3:AbortMultipartUpload, s3:ListBucketMultipartUploads)',
  InvalidAccessKeyId: 'the store does not know the access key the SDK found (AWS_ACCESS_KEY_ID, AWS_PROFILE...)',
  SignatureDoesNotMatch: 'the secret key the SDK found does not match its access key (AWS_SECRET_ACCESS_KEY)',
  CredentialsProviderError: 'the SDK found no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, an instance role)'
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET'])

/** The first errno-like code along the error's causes. */
function networkCode (error: SdkLikeError, depth = 0): string | null {
  if (typeof error.code === 'string' && NETWORK_CODES.has(error.code)) return error.code
  if (depth < 3 && error.cause !== null && typeof error.cause === 'object') return networkCode(error.cause as SdkLikeError, depth + 1)
  return null
}

export function describeUploadFailure (error: unknown): UploadFailure {
  const e = (error !== null && typeof error === 'object' ? error : { message: String(error) }) as SdkLikeError
  const status = e.$metadata?.httpStatusCode
  const network = networkCode(e)
  const code = e.name === 'AbortError' ? 'UploadAborted' : network ?? e.Code ?? (e.name !== undefined && e.name !== 'Error' ? e.name : null) ?? e.code ?? 'UploadFailed'
  const message = e.message !== undefined && e.message !== '' ? e.message : code
  const hint = HINTS[code]
  const retryable = !PERMANENT.has(code) && (network !== null || status === undefined || status >= 500 || status === 429 ||
    code === 'RequestTimeout' || code === 'TimeoutError' || code === 'SlowDown' || e.$retryable !== undefined)
  return {
    code,
    message: `${message}${status === undefined ? '' : ` (HTTP ${status})`}${hint === undefined ? '' : `: ${hint}`}`,
    retryable
  }
}

/** The wait before retry `attempt` (1 for the first retry): doubling from `baseMs`, its upper half random so that processes failing together do not retry together. */
export function backoffMs (attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = baseMs * 2 ** (attempt - 1)
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}
