import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { extract } from 'tar-stream'

/** The entries of a .tar.gz (the incident bundle), by name, in the archive's order. */
export async function tarEntries (gz: Buffer): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>()
  const reader = extract()
  reader.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
    stream.on('end', () => { found.set(header.name, Buffer.concat(chunks)); next() })
  })
  await pipeline(Readable.from([gz]), createGunzip(), reader)
  return found
}
