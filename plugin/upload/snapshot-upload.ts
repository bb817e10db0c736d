import type { Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import { snapshotFileName } from '../snapshot/names.js'
import type { SnapshotStore } from '../snapshot/store.js'
import type { UploadReport } from '../types/reports.js'
import { isFailedUpload } from './object-store.js'
import type { ObjectStore } from './object-store.js'

export type SnapshotUpload = (id: string, log: FastifyBaseLogger) => Promise<UploadReport>

/**
 * Uploads a snapshot from its file on disk, gzip'ed on the way: each attempt reads the file
 * afresh through the store (the same checks as a download: no link, this process's, 0600), so
 * no copy of the snapshot is ever held in memory. Once uploaded the local file is removed with
 * `removeLocalAfterUpload`; a failed upload always leaves it for a retry.
 */
export function snapshotUpload ({ objectStore, store, removeLocalAfterUpload }: {
  objectStore: ObjectStore
  store: SnapshotStore
  removeLocalAfterUpload: boolean
}): SnapshotUpload {
  return async function uploadSnapshot (id, log) {
    const open = async (): Promise<Readable> => {
      const file = await store.open(id, { ignoreAge: true })
      if (file === null) throw Object.assign(new Error(`the snapshot file ${snapshotFileName(id)} is gone from ${store.dir}`), { name: 'LocalFileMissing' })
      return file.handle.createReadStream()
    }
    const report = await objectStore.upload({ name: snapshotFileName(id), gzip: true, open }, log)
    if (!isFailedUpload(report) && removeLocalAfterUpload) {
      await store.remove(id)
      log.info({ snapshotId: id, key: report.key }, 'fastify-memory-diagnostics: heap snapshot uploaded; local file removed (`upload.removeLocalAfterUpload`)')
    }
    return report
  }
}
