import { chmodSync, constants, lstatSync, mkdirSync, readdirSync, realpathSync, rmSync } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { UnsafeSnapshotDirError, UnsafeSnapshotFileError } from '../errors.js'
import { isSnapshotFileName, isSnapshotId, snapshotFileName, snapshotPaths, tempFileWriter } from './names.js'

export interface OpenedSnapshot {
  id: string
  /** The file name, also offered to the client in `Content-Disposition`. */
  name: string
  handle: FileHandle
  bytes: number
}

export interface SnapshotStore {
  readonly dir: string
  /**
   * Opens a complete snapshot; null when there is none with this id or it has expired (it is then
   * removed). `ignoreAge` for the one just written, whatever `maxAgeMs`.
   */
  open (id: string, options?: { ignoreAge?: boolean }): Promise<OpenedSnapshot | null>
  /** Removes a snapshot; false when there was none. */
  remove (id: string): Promise<boolean>
  /** Whether a complete snapshot with this id is on disk (expired or not). */
  exists (id: string): boolean
  /**
   * Removes the snapshots beyond the newest `maxFiles` or last written more than `maxAgeMs` ago
   * (except `keepId`), and temporary files left by a writer that is gone (a crash, an OOM kill).
   * Returns the names removed.
   */
  applyRetention (options?: { keepId?: string | undefined, now?: number }): string[]
}

export interface SnapshotStoreOptions {
  dir: string
  maxFiles: number
  maxAgeMs: number
}

export function createSnapshotStore ({ dir, maxFiles, maxAgeMs }: SnapshotStoreOptions): SnapshotStore {
  const filePath = (id: string) => snapshotPaths(dir, id).file
  const expired = (mtimeMs: number, now: number) => now - mtimeMs > maxAgeMs

  return {
    dir,

    async open (id, { ignoreAge = false } = {}) {
      if (!isSnapshotId(id)) return null
      checkSnapshotDir(dir)
      let handle: FileHandle
      try {
        // O_NOFOLLOW: never what a link points to; O_NONBLOCK: a FIFO planted under this name
        // opens at once instead of tying up a libuv thread until a writer comes. What was opened
        // is then checked on the descriptor itself, so nothing can be swapped in between.
        handle = await open(filePath(id), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT') return null
        if (code === 'ELOOP') throw new UnsafeSnapshotFileError(`${snapshotFileName(id)} is a symbolic link`)
        throw error
      }
      const stats = await handle.stat()
      const unsafe = unsafeFileReason(stats)
      if (unsafe !== null) {
        await handle.close()
        throw new UnsafeSnapshotFileError(`${snapshotFileName(id)} ${unsafe}`)
      }
      const { size, mtimeMs } = stats
      if (!ignoreAge && expired(mtimeMs, Date.now())) {
        await handle.close()
        rmSync(filePath(id), { force: true })
        return null
      }
      return { id, name: snapshotFileName(id), handle, bytes: size }
    },

    exists (id) {
      return isSnapshotId(id) && lstatSync(filePath(id), { throwIfNoEntry: false })?.isFile() === true
    },

    async remove (id) {
      if (!isSnapshotId(id)) return false
      try {
        await unlink(filePath(id))
        return true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
        throw error
      }
    },

    applyRetention ({ keepId, now = Date.now() } = {}) {
      const names = readdirSync(dir)
      const stale = names.filter((name) => {
        const writer = tempFileWriter(name)
        return writer !== null && !writerAlive(writer)
      })
      // Newest first: ids start with their creation time in a fixed-width format.
      const snapshots = names.filter(isSnapshotFileName).sort().reverse()
      const kept = keepId === undefined ? null : snapshotFileName(keepId)
      const old = snapshots.filter((name, index) => {
        if (name === kept) return false
        if (index >= maxFiles) return true
        const stats = lstatSync(join(dir, name), { throwIfNoEntry: false })
        /* c8 ignore next -- removed by another process between readdir and lstat */
        return stats !== undefined && expired(stats.mtimeMs, now)
      })
      const removed = [...stale, ...old]
      for (const name of removed) rmSync(join(dir, name), { force: true })
      return removed
    }
  }
}

/** Why a file opened as a snapshot is not one this plugin wrote, or null when it may be. */
function unsafeFileReason (stats: { isFile (): boolean, nlink: number, uid: number, mode: number }): string | null {
  if (!stats.isFile()) return 'is not a regular file'
  if (stats.nlink !== 1) return `has ${stats.nlink} hard links`
  if (stats.uid !== currentUid(stats.uid)) return `is owned by uid ${stats.uid}, not by this process`
  if ((stats.mode & 0o077) !== 0) return `is accessible to group or others (mode ${(stats.mode & 0o777).toString(8)})`
  return null
}

function currentUid (fallback: number): number {
  /* c8 ignore next -- process.getuid is missing only on Windows, where modes mean little */
  return typeof process.getuid === 'function' ? process.getuid() : fallback
}

/**
 * The directory as it is now: someone may have replaced it (by a symlink, a directory of another
 * user) or opened it up since registration, so it is checked at each write and each download.
 */
export function checkSnapshotDir (dir: string): void {
  const stats = lstatSync(dir, { throwIfNoEntry: false })
  if (stats === undefined) return // removed: writing fails with ENOENT, reading finds nothing
  if (!stats.isDirectory()) throw new UnsafeSnapshotDirError(`the snapshot directory ${dir} is no longer a directory`)
  const uid = currentUid(stats.uid)
  if (stats.uid !== uid) {
    throw new UnsafeSnapshotDirError(`the snapshot directory ${dir} is owned by uid ${stats.uid}, not by this process (uid ${uid})`)
  }
  if ((stats.mode & 0o077) !== 0) {
    throw new UnsafeSnapshotDirError(`the snapshot directory ${dir} is accessible to group or others (mode ${(stats.mode & 0o777).toString(8)}): run chmod 700 on it`)
  }
}

// Writing a snapshot is synchronous, so when retention runs this process is writing none: its own
// temporary files are left from a previous process with the same pid (pid 1 in a container).
function writerAlive (pid: number): boolean {
  if (pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Creates the directory (0700) when missing (`mkdir -p` fails on anything but a directory), then
 * checks it: owned by this process's user, closed to group and others. Snapshots hold the process's secrets (tokens, user data), so
 * a directory someone else could read or pre-create (a shared /tmp) is refused. Returns its real path.
 */
export function prepareSnapshotDir (dir: string): string {
  let real: string
  try {
    if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700)
    real = realpathSync(dir)
  } catch (error) {
    throw new UnsafeSnapshotDirError(`cannot create the snapshot directory ${dir}: ${(error as Error).message}`)
  }
  checkSnapshotDir(real)
  return real
}
