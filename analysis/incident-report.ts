import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { extract } from 'tar-stream'
import { findLeaks } from './find-leaks.js'
import { formatLeakReport } from './format-leaks.js'
import { findGrowingSites } from './heap-profile/find-growing-sites.js'
import { formatGrowingSites } from './heap-profile/format-growing-sites.js'

const SECTION = '## Leak candidates'

/**
 * An incident bundle (`GET /incident`) rendered offline: its summary.md, whose leak candidates
 * section is replaced by find-leaks' answer on the snapshots (or else the profiles) inside it,
 * when there are two or more.
 */
export async function renderIncidentReport (bundle: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-incident-'))
  try {
    const { summary, snapshots, profiles } = await unpack(bundle, dir)
    if (summary === null) throw new Error(`${bundle} has no summary.md: is it an incident bundle (GET /incident)?`)
    const answer = snapshots.length >= 2
      ? formatLeakReport(await findLeaks(snapshots, profiles.length >= 2 ? { profiles } : {}))
      : profiles.length >= 2 ? formatGrowingSites(await findGrowingSites(profiles)) : null
    if (answer === null) return summary
    const at = summary.indexOf(SECTION)
    const head = at === -1 ? `${summary}\n` : summary.slice(0, at)
    return `${head}${SECTION}\n\n\`\`\`\n${answer.trimEnd()}\n\`\`\`\n`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function unpack (bundle: string, dir: string): Promise<{ summary: string | null, snapshots: string[], profiles: string[] }> {
  let summary: string | null = null
  const snapshots: string[] = []
  const profiles: string[] = []
  const reader = extract()
  reader.on('entry', (header, stream, next) => {
    const done = (error?: unknown): void => { if (error === undefined) next(); else reader.destroy(error as Error) }
    if (header.name === 'summary.md') {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
      stream.on('end', () => { summary = Buffer.concat(chunks).toString('utf8'); done() })
      return
    }
    const name = basename(header.name)
    const list = header.name.startsWith('files/') ? (name.endsWith('.heapsnapshot') ? snapshots : name.endsWith('.heapprofile') ? profiles : null) : null
    if (list === null) {
      stream.on('end', () => done()).resume()
      return
    }
    const path = join(dir, name)
    list.push(path)
    pipeline(stream, createWriteStream(path, { mode: 0o600 })).then(() => done(), done)
  })
  await pipeline(createReadStream(bundle), createGunzip(), reader)
  return { summary, snapshots: snapshots.sort(), profiles: profiles.sort() }
}
