import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { HeapSnapshotFormatError } from './errors.js'
import type { HeapSnapshot } from './snapshot.js'
import { HeapSnapshotParser } from './snapshot-parser.js'
import type { HeapSnapshotParserOptions } from './snapshot-parser.js'

export interface ReadProgress {
  /** Bytes of the file read so far (compressed bytes for a gzip file). */
  readonly bytesRead: number
  readonly totalBytes: number
}

export interface ParseHeapSnapshotOptions extends HeapSnapshotParserOptions {
  /** Called after each chunk of the file is read. */
  readonly onProgress?: (progress: ReadProgress) => void
}

const CHUNK_BYTES = 1 << 20
const GZIP_MAGIC = [0x1f, 0x8b]

/**
 * Reads a `.heapsnapshot` file, plain or gzip (told apart by its first two bytes, not its
 * name), as a stream: memory follows the node and edge counts, never the file size.
 */
export async function parseHeapSnapshot (path: string, options: ParseHeapSnapshotOptions = {}): Promise<HeapSnapshot> {
  const file = await open(path, 'r')
  try {
    const { size } = await file.stat()
    const gzip = await startsWith(file, GZIP_MAGIC)
    const raw = file.createReadStream({ start: 0, highWaterMark: CHUNK_BYTES, autoClose: false })
    const { onProgress } = options
    if (onProgress !== undefined) {
      let bytesRead = 0
      raw.on('data', (chunk: string | Buffer) => {
        bytesRead += chunk.length
        onProgress({ bytesRead, totalBytes: size })
      })
    }
    const parser = new HeapSnapshotParser(options)
    for await (const chunk of gzip ? gunzip(raw) : raw) parser.write(chunk as Buffer)
    return parser.end()
  } catch (err) {
    throw withFileName(path, err)
  } finally {
    await file.close()
  }
}

async function startsWith (file: FileHandle, magic: readonly number[]): Promise<boolean> {
  const head = Buffer.alloc(magic.length)
  const { bytesRead } = await file.read(head, 0, magic.length, 0)
  return bytesRead === magic.length && magic.every((byte, i) => head[i] === byte)
}

function gunzip (raw: Readable): Readable {
  // pipeline() forwards a read error to the gunzip stream, so iterating it rejects.
  return pipeline(raw, createGunzip(), () => {})
}

/** Format errors say which file they are about; a broken gzip stream is one too. */
function withFileName (path: string, err: unknown): unknown {
  if (err instanceof HeapSnapshotFormatError) return new HeapSnapshotFormatError(`${path}: ${err.message}`, { cause: err })
  if (isZlibError(err)) return new HeapSnapshotFormatError(`${path}: ${gzipProblem(err)}`, { cause: err })
  return err
}

function isZlibError (err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' &&
    ((err as NodeJS.ErrnoException).code as string).startsWith('Z_')
}

function gzipProblem (err: NodeJS.ErrnoException): string {
  return err.code === 'Z_BUF_ERROR'
    ? `truncated: the gzip stream ends early (${err.message})`
    : `not a V8 heap snapshot: broken gzip data (${err.message})`
}
