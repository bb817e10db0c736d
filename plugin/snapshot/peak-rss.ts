import { readFileSync, writeFileSync } from 'node:fs'
import { round } from '../memory-probe.js'
import type { SnapshotCost } from '../types/reports.js'

export interface ProcFiles {
  status: string
  clearRefs: string
  /** The directory of the process's open file descriptors. */
  fd: string
}

export const PROC_SELF: ProcFiles = { status: '/proc/self/status', clearRefs: '/proc/self/clear_refs', fd: '/proc/self/fd' }

export interface PeakRssMeasure {
  finish (heapUsedBytes: number): SnapshotCost
}

/**
 * Starts measuring the peak RSS of what follows. VmHWM is the high-water mark of the whole
 * process life, so read alone it would report whatever peak came first (a startup spike, an
 * earlier and bigger snapshot). Writing `5` to /proc/self/clear_refs (Linux 4.0+, allowed to the
 * process's owner) resets it to the current RSS, so the peak read afterwards is this one's.
 */
export function measurePeakRss (files: ProcFiles = PROC_SELF): PeakRssMeasure {
  const reset = resetPeakRss(files)
  const before = readRss(files)
  return {
    finish (heapUsedBytes) {
      const after = readRss(files)
      if (before === null || after === null) {
        return { rssBeforeBytes: null, peakRssBytes: null, extraRssBytes: null, costFactor: null, peakRssIsUpperBound: false }
      }
      const extraRssBytes = Math.max(0, after.peakBytes - before.rssBytes)
      return {
        rssBeforeBytes: before.rssBytes,
        peakRssBytes: after.peakBytes,
        extraRssBytes,
        costFactor: round(extraRssBytes / heapUsedBytes, 2),
        peakRssIsUpperBound: !reset
      }
    }
  }
}

function resetPeakRss (files: ProcFiles): boolean {
  try {
    writeFileSync(files.clearRefs, '5')
    return true
  } catch {
    return false
  }
}

/** VmRSS and VmHWM from /proc/self/status, in bytes; null where it cannot be read. */
export function readRss (files: ProcFiles = PROC_SELF): { rssBytes: number, peakBytes: number } | null {
  let text: string
  try {
    text = readFileSync(files.status, 'latin1')
  } catch {
    return null
  }
  const rssBytes = kibField(text, 'VmRSS')
  const peakBytes = kibField(text, 'VmHWM')
  return rssBytes === null || peakBytes === null ? null : { rssBytes, peakBytes }
}

function kibField (text: string, name: string): number | null {
  const match = new RegExp(`^${name}:\\s*(\\d+) kB$`, 'm').exec(text)
  return match === null ? null : Number(match[1]) * 1024
}
