import { randomBytes } from 'node:crypto'
import { join } from 'node:path'

// How snapshots are named on disk: the store and the writer both go by these, and by nothing else.

/** A snapshot id: its creation time (ISO 8601 basic format, UTC) and 64 random bits. */
export const SNAPSHOT_ID_PATTERN = '^[0-9]{8}T[0-9]{6}\\.[0-9]{3}Z-[0-9a-f]{16}$'
const SNAPSHOT_ID = new RegExp(SNAPSHOT_ID_PATTERN)
const FILE_NAME = /^heap-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{16}\.heapsnapshot$/
// The writer's pid is in the temporary name so that processes sharing the directory (a cluster)
// only clean up temporary files whose writer is gone.
// `.raw`: what V8 writes into when the snapshot is redacted (a named pipe, or a file read at once).
const TEMP_NAME = /^heap-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{16}\.([0-9]+)\.(?:raw\.)?heapsnapshot\.tmp$/

export function newSnapshotId (now: Date = new Date()): string {
  const basic = now.toISOString().replace(/[-:]/g, '')
  return `${basic}-${randomBytes(8).toString('hex')}`
}

export function isSnapshotId (id: string): boolean {
  return SNAPSHOT_ID.test(id)
}

/** The file name of a complete snapshot, also offered to the client in `Content-Disposition`. */
export function snapshotFileName (id: string): string {
  return `heap-${id}.heapsnapshot`
}

/** Where a snapshot is written (`temp`, by this process) and where it is once complete (`file`). */
export function snapshotPaths (dir: string, id: string): { file: string, temp: string, raw: string } {
  return {
    file: join(dir, snapshotFileName(id)),
    temp: join(dir, `heap-${id}.${process.pid}.heapsnapshot.tmp`),
    raw: join(dir, `heap-${id}.${process.pid}.raw.heapsnapshot.tmp`)
  }
}

export function isSnapshotFileName (name: string): boolean {
  return FILE_NAME.test(name)
}

/** The pid of the process writing this temporary file, or null when the name is no snapshot's temporary file. */
export function tempFileWriter (name: string): number | null {
  const writer = TEMP_NAME.exec(name)
  return writer === null ? null : Number(writer[1])
}
