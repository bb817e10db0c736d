import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'

/** What a file holds, told by its content (its first bytes, gunzipped when gzip), never its name. */
export type DiagnosticsFileKind = 'heap-snapshot' | 'heap-profile'

const HEAD_BYTES = 4096

/**
 * A heap snapshot's JSON starts with its `snapshot` header, a sampling heap profile's with its
 * `head` node (as V8, DevTools' "Save profile" and `node --heap-prof` write them). Null when it
 * is neither.
 */
export async function fileKind (path: string): Promise<DiagnosticsFileKind | null> {
  const text = await headText(path)
  const first = /^\s*\{\s*"(\w+)"/.exec(text)?.[1]
  if (first === 'snapshot') return 'heap-snapshot'
  if (first === 'head' || (text.trimStart().startsWith('{') && /"head"\s*:\s*\{\s*"callFrame"/.test(text))) return 'heap-profile'
  return null
}

async function headText (path: string): Promise<string> {
  const file = await open(path, 'r')
  try {
    const head = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await file.read(head, 0, HEAD_BYTES, 0)
    const bytes = head.subarray(0, bytesRead)
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes.toString('utf8')
    return await gunzipStart(bytes)
  } finally {
    await file.close()
  }
}

// The start of a gzip stream, from its first bytes only: a cut stream is an error to zlib, so
// what it inflated before the cut is kept.
function gunzipStart (bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const gunzip = createGunzip()
    const chunks: Buffer[] = []
    gunzip.on('data', (chunk: Buffer) => chunks.push(chunk))
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'))
    gunzip.on('end', done)
    gunzip.on('error', done)
    gunzip.end(bytes)
  })
}
