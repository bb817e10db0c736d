import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { diffHeapSnapshots } from '../../analysis/diff.js'
import type { DiffProgress, HeapDiff, HeapDiffRow } from '../../analysis/diff.js'
import { parseHeapSnapshot } from '../../analysis/read-snapshot.js'
import { gzipFile, rootedGraph, snapshotText, writeLeakSnapshots } from './fixtures.js'
import type { NodeSpec } from './fixtures.js'

const LEAK_CLASS = 'LeakyWidgetForDiffTest'
const LEAK_COUNT = 5000

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]] } }
  nodes: number[]
  strings: string[]
}

/**
 * The Comparison view the slow, obvious way, as a reference: JSON.parse both files, name each
 * node's class as devtools-frontend's JSHeapSnapshotNode.className() does, skip nodes of self
 * size 0 as its buildAggregates() does, and match (class, id) pairs.
 */
async function referenceRows (beforePath: string, afterPath: string): Promise<HeapDiffRow[]> {
  const objects = async (path: string): Promise<Map<string, { className: string, size: number }>> => {
    const raw = JSON.parse(await readFile(path, 'utf8')) as RawSnapshot
    const fields = raw.snapshot.meta.node_fields
    const types = raw.snapshot.meta.node_types[0]
    const byKey = new Map<string, { className: string, size: number }>()
    for (let i = 0; i < raw.nodes.length; i += fields.length) {
      const field = (name: string): number => raw.nodes[i + fields.indexOf(name)] as number
      const type = types[field('type')] as string
      const size = field('self_size')
      if (size === 0) continue
      const className = type === 'object' || type === 'native'
        ? raw.strings[field('name')] as string
        : ({ hidden: '(system)', code: '(compiled code)' } as Record<string, string>)[type] ?? `(${type})`
      byKey.set(`${className}\u0000${field('id')}`, { className, size })
    }
    return byKey
  }
  const before = await objects(beforePath)
  const after = await objects(afterPath)
  const rows = new Map<string, { addedCount: number, removedCount: number, addedSize: number, removedSize: number }>()
  const row = (className: string) => {
    let found = rows.get(className)
    if (found === undefined) rows.set(className, found = { addedCount: 0, removedCount: 0, addedSize: 0, removedSize: 0 })
    return found
  }
  for (const [key, { className, size }] of after) {
    if (before.has(key)) continue
    row(className).addedCount++
    row(className).addedSize += size
  }
  for (const [key, { className, size }] of before) {
    if (after.has(key)) continue
    row(className).removedCount++
    row(className).removedSize += size
  }
  return [...rows].map(([className, r]) => ({ className, ...r, countDelta: r.addedCount - r.removedCount, sizeDelta: r.addedSize - r.removedSize }))
    .sort((a, b) => b.sizeDelta - a.sizeDelta || (a.className < b.className ? -1 : 1))
}

function rowOf (diff: HeapDiff, className: string): HeapDiffRow | undefined {
  return diff.rows.find((row) => row.className === className)
}

t.test(`${LEAK_COUNT} instances retained from a global`, async (t) => {
  const dir = t.testdir()
  const { before, after } = await writeLeakSnapshots(dir, LEAK_CLASS, LEAK_COUNT)
  const diff = await diffHeapSnapshots(before, after)

  t.test('show as exactly +5000 of their class, at the top', async (t) => {
    const row = rowOf(diff, LEAK_CLASS)
    t.equal(row?.addedCount, LEAK_COUNT)
    t.equal(row?.countDelta, LEAK_COUNT)
    t.equal(row?.removedCount, 0)
    // V8 sizes the first instances of a class with slack, so sizes differ a little; each at least holds 3 fields.
    t.ok(row !== undefined && row.addedSize >= LEAK_COUNT * 3 * 8, 'at least 24 bytes per object')
    t.equal(row?.sizeDelta, row?.addedSize)
    t.equal(diff.rows[0]?.className, LEAK_CLASS, 'the class that grew most')
  })

  t.test('with retainedSizes, what the new instances retain: themselves and their label strings', async (t) => {
    t.equal(rowOf(diff, LEAK_CLASS)?.addedRetainedSize, undefined, 'not by default')
    const withRetained = await diffHeapSnapshots(before, after, { retainedSizes: true, retainerPaths: 0 })
    const row = rowOf(withRetained, LEAK_CLASS)
    t.ok(row?.addedRetainedSize !== undefined && row.addedRetainedSize > row.addedSize, `${row?.addedRetainedSize} > ${row?.addedSize}`)
    const array = rowOf(withRetained, 'Array')
    t.ok(array?.addedRetainedSize !== undefined && array.addedRetainedSize >= (row?.addedRetainedSize ?? Infinity), 'the new array retains every instance')
  })

  t.test('with a retainer path from the GC roots to one of the new instances', async (t) => {
    const path = diff.retainerPaths.find((p) => p.className === LEAK_CLASS)
    t.ok(path, 'a path for the class')
    if (path === undefined) return
    t.equal(path.steps[0]?.label, '(GC roots)', 'starts at the GC roots')
    t.equal(path.steps.at(-1)?.label, LEAK_CLASS, 'ends at the class')
    t.equal(path.steps.at(-1)?.nodeId, path.nodeId)
    t.match(path.text, new RegExp(`^\\(GC roots\\) → global\\.retained → Array\\[\\d+\\] → ${LEAK_CLASS}$`))
    const beforeIds = (await parseHeapSnapshot(before, { edges: false })).nodeId
    t.notOk(beforeIds.includes(path.nodeId), 'the object is new')
  })

  t.test('match the Comparison view computed naively from JSON.parse', async (t) => {
    const everything = await diffHeapSnapshots(before, after, { retainerPaths: 0 })
    t.same(everything.rows, await referenceRows(before, after))
    t.equal(everything.classCount, everything.rows.length)
    t.same(everything.retainerPaths, [])
    const sum = (key: keyof HeapDiffRow): number => everything.rows.reduce((total, row) => total + (row[key] as number), 0)
    t.same(everything.totals, {
      addedCount: sum('addedCount'),
      removedCount: sum('removedCount'),
      countDelta: sum('countDelta'),
      addedSize: sum('addedSize'),
      removedSize: sum('removedSize'),
      sizeDelta: sum('sizeDelta')
    })
    const raw = JSON.parse(await readFile(after, 'utf8')) as RawSnapshot & { snapshot: { node_count: number, edge_count: number } }
    const sizeOffset = raw.snapshot.meta.node_fields.indexOf('self_size')
    const totalSize = raw.nodes.filter((_, i) => i % raw.snapshot.meta.node_fields.length === sizeOffset).reduce((a, b) => a + b, 0)
    t.same(everything.after, { file: after, nodeCount: raw.snapshot.node_count, edgeCount: raw.snapshot.edge_count, totalSize })
  })

  t.test('read the same from gzip files', async (t) => {
    const gzipped = await diffHeapSnapshots(await gzipFile(before, join(dir, 'before.gz')), await gzipFile(after, join(dir, 'after.gz')))
    t.same({ ...gzipped, before: { ...gzipped.before, file: before }, after: { ...gzipped.after, file: after } }, diff)
  })

  t.test('top, sortBy and retainerPaths shape the result', async (t) => {
    const top3 = await diffHeapSnapshots(before, after, { top: 3, retainerPaths: 1, sortBy: 'countDelta' })
    t.equal(top3.rows.length, 3)
    t.equal(top3.classCount, diff.classCount, 'classCount counts them all')
    t.same(top3.totals, diff.totals, 'totals count them all')
    t.equal(top3.sortBy, 'countDelta')
    t.ok(top3.rows.every((row, i) => i === 0 || (top3.rows[i - 1] as HeapDiffRow).countDelta >= row.countDelta), 'by count delta')
    t.equal(top3.retainerPaths.length, 1)
    const byAdded = await diffHeapSnapshots(before, after, { sortBy: 'addedCount', top: Infinity, retainerPaths: 0 })
    t.ok(byAdded.rows.every((row, i) => i === 0 || (byAdded.rows[i - 1] as HeapDiffRow).addedCount >= row.addedCount), 'by added count')
  })

  t.test('report progress for both files, in order', async (t) => {
    const seen: DiffProgress[] = []
    await diffHeapSnapshots(before, after, { retainerPaths: 0, onProgress: (p) => seen.push(p) })
    const phases = seen.map((p) => `${p.snapshot} ${p.file}`).filter((p, i, all) => p !== all[i - 1])
    t.same(phases, [`before ${before}`, `after ${after}`])
  })

  t.test('find nothing between a snapshot and itself', async (t) => {
    const same = await diffHeapSnapshots(after, after)
    t.same(same.rows, [])
    t.same(same.retainerPaths, [])
    t.equal(same.totals.sizeDelta, 0)
  })
})

t.test('an object whose class changed is deleted from one class and new in the other', async (t) => {
  const dir = t.testdir()
  const graph = (type: string): NodeSpec[] => rootedGraph([{ type, name: 'ab', id: 9, size: 32 }])
  await writeFile(join(dir, 'before.heapsnapshot'), snapshotText(graph('concatenated string')))
  await writeFile(join(dir, 'after.heapsnapshot'), snapshotText(graph('string')))
  const diff = await diffHeapSnapshots(join(dir, 'before.heapsnapshot'), join(dir, 'after.heapsnapshot'))
  t.same(diff.rows.map((row) => [row.className, row.countDelta, row.sizeDelta]), [['(string)', 1, 32], ['(concatenated string)', -1, -32]])
  t.equal(diff.retainerPaths[0]?.text, '(GC roots) → global.p0 → (string)')
})

t.test('bad options are refused before any file is read', async (t) => {
  const missing = join(t.testdir(), 'missing')
  await t.rejects(diffHeapSnapshots(missing, missing, { top: 0 }), new RangeError('top must be an integer >= 1 or Infinity, got 0'))
  await t.rejects(diffHeapSnapshots(missing, missing, { top: 2.5 }), RangeError)
  await t.rejects(diffHeapSnapshots(missing, missing, { retainerPaths: -1 }), new RangeError('retainerPaths must be an integer >= 0 or Infinity, got -1'))
  // @ts-expect-error a sort key that does not exist
  await t.rejects(diffHeapSnapshots(missing, missing, { sortBy: 'name' }), new RangeError('sortBy must be one of sizeDelta, countDelta, addedSize, addedCount, got name'))
  await t.rejects(diffHeapSnapshots(missing, missing), { code: 'ENOENT' })
})
