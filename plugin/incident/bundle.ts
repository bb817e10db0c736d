import { closeSync, createReadStream, fstatSync, openSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
import { createGzip } from 'node:zlib'
import { pack } from 'tar-stream'
import { isSnapshotFileName } from '../snapshot/names.js'

// What `?files=true` may add to one download: beyond it the files are listed, not included.
export const INCIDENT_FILES_MAX_BYTES = 512 * 1024 * 1024
const PROFILE_FILE = /^capture-[0-9TZ.]+-[0-9a-f]{16}\.heapprofile$/

export interface EvidenceFile {
  readonly name: string
  readonly path: string
  readonly bytes: number
  readonly kind: 'heap-snapshot' | 'heap-profile'
  /** ISO 8601, the file's modification time. */
  readonly writtenAt: string
}

/** The snapshots and captured profiles in the snapshot directory, oldest first. */
export function listEvidence (dir: string): EvidenceFile[] {
  const files: EvidenceFile[] = []
  for (const name of readdirSync(dir)) {
    const kind = isSnapshotFileName(name) ? 'heap-snapshot' : PROFILE_FILE.test(name) ? 'heap-profile' : null
    if (kind === null) continue
    try {
      const stats = statSync(join(dir, name))
      files.push({ name, path: join(dir, name), bytes: stats.size, kind, writtenAt: stats.mtime.toISOString() })
    } catch {
      // removed by retention between the listing and the stat
    }
  }
  return files.sort((a, b) => a.writtenAt.localeCompare(b.writtenAt) || a.name.localeCompare(b.name))
}

/** Which files go in (all, oldest first, while the total fits) and which are only listed. */
export function chooseFiles (files: readonly EvidenceFile[], wanted: boolean, maxBytes = INCIDENT_FILES_MAX_BYTES): { included: EvidenceFile[], omitted: string[] } {
  if (!wanted) return { included: [], omitted: files.length === 0 ? [] : [`${files.length} files in the snapshot directory (ask with ?files=true)`] }
  const total = files.reduce((sum, file) => sum + file.bytes, 0)
  if (total <= maxBytes) return { included: [...files], omitted: [] }
  return { included: [], omitted: files.map((file) => `${file.name} (${file.bytes} bytes: together ${total} bytes, above the bundle's ${maxBytes})`) }
}

/**
 * The bundle as a .tar.gz stream: `summary.md` first, then the JSON documents, then `files/` with
 * the evidence files streamed from disk through descriptors opened at once (each at its size then:
 * a file that changed since fails the stream rather than write a corrupt entry).
 */
export function incidentArchive (summary: string, documents: Record<string, unknown>, files: readonly EvidenceFile[]): Readable {
  // Opened now, in the tick that listed them: retention or a capture may remove a file while the
  // bundle streams (a captured profile beyond maxFiles), and an open descriptor still reads it.
  const opened = files.flatMap((file) => {
    try {
      const fd = openSync(file.path, 'r')
      return [{ file, fd, bytes: fstatSync(fd).size }]
    } catch {
      return [] // removed between the listing and now
    }
  })
  const archive = pack()
  const mtime = new Date()
  const gzip = createGzip({ level: 6 })
  const fill = async (): Promise<void> => {
    archive.entry({ name: 'summary.md', mtime, mode: 0o600 }, summary)
    for (const [name, value] of Object.entries(documents)) {
      archive.entry({ name, mtime, mode: 0o600 }, JSON.stringify(value, null, 2) + '\n')
    }
    for (const one of opened) {
      const { file, fd, bytes } = one
      one.fd = -1 // the stream owns it now, and closes it
      const entry = archive.entry({ name: `files/${file.name}`, size: bytes, mtime, mode: 0o600 })
      await pipeline(createReadStream('', { fd, start: 0, end: Math.max(bytes - 1, 0), autoClose: true }), entry)
    }
    archive.finalize()
  }
  fill().catch((error: unknown) => {
    for (const { fd } of opened) if (fd >= 0) try { closeSync(fd) } catch {}
    archive.destroy(error as Error)
  })
  archive.pipe(gzip)
  archive.on('error', (error) => gzip.destroy(error))
  return gzip
}
