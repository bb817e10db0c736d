import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { HeapProfileFormatError } from '../errors.js'

// What the analysis reads of a `.heapprofile`: V8's tree, and the plugin's metadata when it is
// there (a profile saved from DevTools or written by `node --heap-prof` has none).

export interface ProfileFrame {
  readonly functionName: string
  readonly scriptId: string
  readonly url: string
  /** 0-based, of the function's start. */
  readonly lineNumber: number
  readonly columnNumber: number
}

export interface ProfileNode {
  readonly callFrame: ProfileFrame
  readonly selfSize: number
  readonly id: number
  readonly children: readonly ProfileNode[]
}

export interface ProfiledRoute {
  readonly route: string
  readonly requests: number
  readonly handler: { readonly scriptId: string, readonly lineNumber: number, readonly columnNumber: number, readonly url: string | null, readonly functionName: string } | null
}

/** The `memoryDiagnostics` field the plugin adds. */
export interface ProfileMetadata {
  readonly pid: number
  readonly takenAt: string
  readonly since: string
  readonly intervalBytes: number
  readonly stackDepth: number
  readonly routes: readonly ProfiledRoute[]
  /** Original positions of source-mapped frames, keyed `url:line:column` (0-based, as the frames). */
  readonly sourcePositions?: Readonly<Record<string, { readonly url: string, readonly line: number, readonly column: number }>>
}

export interface HeapProfile {
  readonly file: string
  readonly head: ProfileNode
  readonly sampleCount: number
  readonly metadata: ProfileMetadata | null
}

/** Reads a `.heapprofile`, plain or gzip (told apart by its first two bytes). */
export async function readHeapProfile (path: string): Promise<HeapProfile> {
  const raw = await readFile(path)
  let parsed: unknown
  try {
    const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8')
    parsed = JSON.parse(text)
  } catch (err) {
    throw new HeapProfileFormatError(`${path}: not a readable heap profile (${(err as Error).message})`, { cause: err })
  }
  const { head, samples, memoryDiagnostics } = (parsed ?? {}) as { head?: unknown, samples?: unknown, memoryDiagnostics?: unknown }
  if (!isNode(head)) throw new HeapProfileFormatError(`${path}: not a V8 sampling heap profile (no "head" node with a callFrame)`)
  return {
    file: path,
    head,
    sampleCount: Array.isArray(samples) ? samples.length : 0,
    metadata: isMetadata(memoryDiagnostics) ? memoryDiagnostics : null
  }
}

function isNode (value: unknown): value is ProfileNode {
  const node = value as ProfileNode | null
  return node !== null && typeof node === 'object' && typeof node.callFrame === 'object' && node.callFrame !== null &&
    typeof node.selfSize === 'number' && Array.isArray(node.children)
}

function isMetadata (value: unknown): value is ProfileMetadata {
  const meta = value as ProfileMetadata | null
  return meta !== null && typeof meta === 'object' && typeof meta.pid === 'number' && typeof meta.since === 'string' &&
    typeof meta.takenAt === 'string' && Array.isArray(meta.routes)
}
