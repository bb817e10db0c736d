import { copyFile, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import type { Test } from 'tap'
import { parseHeapSnapshot } from '../../analysis/read-snapshot.js'
import type { ReadProgress } from '../../analysis/read-snapshot.js'
import type { HeapSnapshot } from '../../analysis/snapshot.js'
import { HeapSnapshotParser } from '../../analysis/snapshot-parser.js'
import { gzipFile, rootedGraph, snapshotText, writeLeakSnapshots } from './fixtures.js'

const FORMAT_ERROR = { name: 'FastifyError', code: 'FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT' }

function parseWhole (text: Buffer): HeapSnapshot {
  const parser = new HeapSnapshotParser()
  parser.write(text)
  return parser.end()
}

function sameSnapshot (t: Test, actual: HeapSnapshot, expected: HeapSnapshot): void {
  t.equal(actual.nodeCount, expected.nodeCount, 'node count')
  t.equal(actual.edgeCount, expected.edgeCount, 'edge count')
  t.ok(Buffer.from(actual.nodeId.buffer).equals(Buffer.from(expected.nodeId.buffer)), 'node ids')
  t.ok(Buffer.from(actual.nodeSelfSize.buffer).equals(Buffer.from(expected.nodeSelfSize.buffer)), 'self sizes')
  t.ok(Buffer.from(actual.edgeToNode.buffer).equals(Buffer.from(expected.edgeToNode.buffer)), 'edges')
  t.same(actual.strings, expected.strings, 'strings')
}

t.test('plain and gzip files, told apart by their first bytes', async (t) => {
  const dir = t.testdir()
  const { after } = await writeLeakSnapshots(dir, 'ReadProbe', 10)
  const expected = parseWhole(await readFile(after))
  const gzipNamedPlain = await gzipFile(after, join(dir, 'compressed.heapsnapshot'))
  const plainNamedGzip = join(dir, 'plain.heapsnapshot.gz')
  await copyFile(after, plainNamedGzip)
  t.test('plain', async (t) => sameSnapshot(t, await parseHeapSnapshot(after), expected))
  t.test('gzip without a .gz name', async (t) => sameSnapshot(t, await parseHeapSnapshot(gzipNamedPlain), expected))
  t.test('plain with a .gz name', async (t) => sameSnapshot(t, await parseHeapSnapshot(plainNamedGzip), expected))

  t.test('progress counts the bytes of the file up to its size', async (t) => {
    for (const file of [after, gzipNamedPlain]) {
      const seen: ReadProgress[] = []
      await parseHeapSnapshot(file, { onProgress: (p) => seen.push(p) })
      const { size } = await stat(file)
      t.ok(seen.length > 1, `${seen.length} calls for ${size} bytes`)
      t.ok(seen.every((p, i) => p.totalBytes === size && (i === 0 || p.bytesRead > (seen[i - 1] as ReadProgress).bytesRead)), 'growing, out of the file size')
      t.equal(seen.at(-1)?.bytesRead, size, 'ends at the file size')
    }
  })

  t.test('edges can be left out', async (t) => {
    const snapshot = await parseHeapSnapshot(gzipNamedPlain, { edges: false })
    t.equal(snapshot.nodeCount, expected.nodeCount)
    t.equal(snapshot.edgeToNode.length, 0)
  })
})

t.test('broken files reject with a message that names them', async (t) => {
  const dir = t.testdir()
  const text = snapshotText(rootedGraph([{ type: 'object', name: 'Thing', id: 5, size: 24 }]))
  const file = async (name: string, content: string | Buffer): Promise<string> => {
    const path = join(dir, name)
    await writeFile(path, content)
    return path
  }
  const empty = await file('empty.heapsnapshot', '')
  await t.rejects(parseHeapSnapshot(empty), { ...FORMAT_ERROR, message: `${empty}: not a V8 heap snapshot: the file is empty` })
  const cut = await file('cut.heapsnapshot', text.slice(0, text.indexOf('"nodes":[') + 12))
  await t.rejects(parseHeapSnapshot(cut), { ...FORMAT_ERROR, message: `${cut}: truncated: expected 3 nodes, got 0` })
  const gzip = gzipSync(text)
  const cutGzip = await file('cut.heapsnapshot.gz', gzip.subarray(0, gzip.length - 12))
  await t.rejects(parseHeapSnapshot(cutGzip), { ...FORMAT_ERROR, message: new RegExp(`^${cutGzip}: truncated: the gzip stream ends early \\(unexpected end of file\\)$`) })
  const badGzip = await file('bad.heapsnapshot.gz', Buffer.concat([gzip.subarray(0, 10), Buffer.from('not deflate data at all')]))
  await t.rejects(parseHeapSnapshot(badGzip), { ...FORMAT_ERROR, message: new RegExp(`^${badGzip}: not a V8 heap snapshot: broken gzip data`) })
  await t.rejects(parseHeapSnapshot(join(dir, 'missing.heapsnapshot')), { code: 'ENOENT' })
  await t.rejects(parseHeapSnapshot(dir), { code: 'EISDIR' })
})
