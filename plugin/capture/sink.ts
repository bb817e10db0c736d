import type { MemoryDiagnosticsOptions } from '../types/options.js'
import type { CaptureSink } from './capturer.js'

/**
 * The one place where captured files are handed to object storage. Issue 21's S3 upload
 * (plugin/upload/) is wired here at its merge: when its option is configured, this returns the
 * function that uploads one captured file. Until then captures stay in the snapshot directory.
 */
export function captureSink (_options: MemoryDiagnosticsOptions): CaptureSink {
  return null
}
