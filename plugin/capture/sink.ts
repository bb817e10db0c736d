import { createReadStream } from 'node:fs'
import { basename } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { isFailedUpload } from '../upload/object-store.js'
import type { ObjectStore } from '../upload/object-store.js'
import type { SnapshotUpload } from '../upload/snapshot-upload.js'
import type { UploadReport, WrittenSnapshot } from '../types/reports.js'
import type { CaptureSink } from './capturer.js'

/** Where captures go when the `upload` option is configured: the same bucket and keys as the routes'. */
export interface CaptureUploads {
  /** Uploads a captured snapshot inside its job, under its lock (as `POST /heap-snapshot` does). */
  snapshot: ((file: WrittenSnapshot) => Promise<UploadReport>) | null
  /** Uploads a captured heap profile file, gzip'ed. */
  profile: CaptureSink
}

export function captureUploads (objectStore: ObjectStore | null, upload: SnapshotUpload | null, log: FastifyBaseLogger): CaptureUploads {
  return {
    snapshot: upload === null ? null : async (file) => await upload(file.id, log),
    profile: objectStore === null
      ? null
      : async ({ path }) => {
        const report = await objectStore.upload({ name: basename(path), gzip: true, open: async () => createReadStream(path) }, log)
        if (isFailedUpload(report)) throw new Error(`upload failed after ${report.attempts} attempt(s): ${report.error.message}`)
      }
  }
}
