import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CaptureRecord } from './policy.js'

/** The captures' record in the snapshot directory: what survives a restart loop. */
export const CAPTURE_RECORDS_FILE = 'captures.json'

/** The records of the last `periodMs`; none when the file is missing or unreadable (then `problem` says why). */
export function readCaptureRecords (dir: string, now: number, periodMs: number): { records: CaptureRecord[], problem: string | null } {
  let text: string
  try {
    text = readFileSync(join(dir, CAPTURE_RECORDS_FILE), 'utf8')
  } catch (error) {
    return { records: [], problem: (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : (error as Error).message }
  }
  try {
    const parsed = JSON.parse(text) as { records?: unknown }
    const records = Array.isArray(parsed.records) ? parsed.records.filter(isRecord) : []
    return { records: records.filter((record) => now - record.at < periodMs), problem: null }
  } catch (error) {
    return { records: [], problem: `${CAPTURE_RECORDS_FILE} is not JSON: ${(error as Error).message}` }
  }
}

/** Replaces the file whole (written aside, then renamed), mode 0600 like the snapshots. */
export function writeCaptureRecords (dir: string, records: readonly CaptureRecord[]): void {
  const file = join(dir, CAPTURE_RECORDS_FILE)
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, JSON.stringify({ v: 1, records }, null, 2) + '\n', { mode: 0o600 })
  renameSync(temp, file)
}

function isRecord (value: unknown): value is CaptureRecord {
  const record = value as Partial<CaptureRecord> | null
  return record !== null && typeof record === 'object' && (record.kind === 'heap-snapshot' || record.kind === 'heap-profile') &&
    typeof record.at === 'number' && typeof record.id === 'string'
}
