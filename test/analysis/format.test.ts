import t from 'tap'
import type { HeapDiff, HeapDiffRow } from '../../analysis/diff.js'
import { bytes, formatHeapDiff } from '../../analysis/format.js'

function row (className: string, addedCount: number, removedCount: number, addedSize: number, removedSize: number): HeapDiffRow {
  return { className, addedCount, removedCount, countDelta: addedCount - removedCount, addedSize, removedSize, sizeDelta: addedSize - removedSize }
}

const ROWS = [
  row('NativeConnection', 5000, 0, 1_250_000, 0),
  row('(string)', 12_345, 2, 400_123, 64),
  row('Schema', 3, 10, 96, 320)
]

function diffOf (rows: HeapDiffRow[], extra: Partial<HeapDiff> = {}): HeapDiff {
  return {
    before: { file: 'before.heapsnapshot', nodeCount: 1_000_000, edgeCount: 4_000_000, totalSize: 50_000_000 },
    after: { file: 'after.heapsnapshot.gz', nodeCount: 1_017_346, edgeCount: 4_100_000, totalSize: 51_649_999 },
    totals: { addedCount: 17_348, removedCount: 12, countDelta: 17_336, addedSize: 1_650_219, removedSize: 384, sizeDelta: 1_649_835 },
    classCount: rows.length,
    sortBy: 'sizeDelta',
    rows,
    retainerPaths: [],
    ...extra
  }
}

t.test('a table with DevTools\' columns, sizes in decimal units', async (t) => {
  t.equal(formatHeapDiff(diffOf(ROWS)), [
    'Before: 1,000,000 nodes, 50.0 MB  before.heapsnapshot',
    'After : 1,017,346 nodes, 51.6 MB  after.heapsnapshot.gz',
    'Change: +17,346 nodes, +1.65 MB (17,348 new, 12 deleted objects)',
    '',
    'Constructor        # New  # Deleted  # Delta  Alloc. Size  Freed Size  Size Delta',
    'NativeConnection   5,000          0   +5,000      1.25 MB         0 B    +1.25 MB',
    '(string)          12,345          2  +12,343     400.1 kB        64 B   +400.1 kB',
    'Schema                 3         10       -7         96 B       320 B      -224 B',
    ''
  ].join('\n'))
})

t.test('top cuts rows and says how many more there are', async (t) => {
  const text = formatHeapDiff(diffOf(ROWS), { top: 1 })
  t.match(text, /NativeConnection/)
  t.notMatch(text, /Schema/)
  t.match(text, /\n… 2 more classes \(sorted by sizeDelta; show more with --top\)\n$/)
  t.match(formatHeapDiff(diffOf(ROWS.slice(0, 1), { classCount: 1200 })), /… 1,199 more classes/, 'also rows cut by the diff itself')
})

t.test('long or multi-line class names stay on one line of the table', async (t) => {
  const name = `{${Array.from({ length: 30 }, (_, i) => `field${i}`).join(', ')}}`
  const text = formatHeapDiff(diffOf([row(name, 1, 0, 8, 0), row('line\nbreak', 1, 0, 8, 0)]))
  const lines = text.split('\n')
  t.equal(lines[5]?.indexOf('…'), 59, 'cut at 60 characters')
  t.match(lines[6], /^line break +1/)
})

t.test('no change says so', async (t) => {
  t.match(formatHeapDiff(diffOf([], { totals: { addedCount: 0, removedCount: 0, countDelta: 0, addedSize: 0, removedSize: 0, sizeDelta: 0 } })),
    /\(0 new, 0 deleted objects\)\n\nNo object was added or deleted\.\n$/)
})

t.test('retainer paths follow the table', async (t) => {
  const text = formatHeapDiff(diffOf(ROWS, {
    retainerPaths: [{ className: 'NativeConnection', nodeId: 4242, steps: [], text: '(GC roots) → global.connections → Array[3] → NativeConnection' }]
  }))
  t.match(text, /\n\nRetainer paths \(shortest path from the GC roots to one new object of the class\):\n {2}NativeConnection @4242\n {4}\(GC roots\) → global\.connections → Array\[3\] → NativeConnection\n$/)
})

t.test('a retainer path with its steps names the holder as find-leaks does', async (t) => {
  const step = (label: string, edge: string | null, edgeType: string | null, nodeId: number) => ({ label, nodeType: 'object', nodeId, edge, edgeType })
  const steps = [step('TimersList', '._idleNext', 'property', 1), step('Timeout', '._onTimeout', 'property', 2), step('NodeCache', '.data', 'property', 3),
    step('Object', '["/items/17"]', 'property', 4), step('Object', null, null, 5)]
  const text = formatHeapDiff(diffOf(ROWS, { retainerPaths: [{ className: 'Object', nodeId: 5, steps, text: 'TimersList._idleNext → …' }] }))
  t.match(text, /\n {2}Object @5\n {4}TimersList\._idleNext → …\n {4}held by: dictionary {2}NodeCache\.data\n$/, 'a dictionary, not a timer leak')
})

t.test('bytes', async (t) => {
  t.same([0, 999, 1000, 12_345, 999_999, 1_500_000, 2e9, 3.5e12, 7e15, -2048].map(bytes),
    ['0 B', '999 B', '1.00 kB', '12.3 kB', '1000.0 kB', '1.50 MB', '2.00 GB', '3.50 TB', '7000.0 TB', '-2.05 kB'])
})

t.test('a Retained (new) column when the rows have retained sizes', async (t) => {
  const rows = [{ ...row('NativeConnection', 5000, 0, 1_250_000, 0), addedRetainedSize: 9_870_000 }, { ...row('Schema', 3, 10, 96, 320), addedRetainedSize: 0 }]
  const lines = formatHeapDiff(diffOf(rows)).split('\n')
  t.equal(lines[4], 'Constructor       # New  # Deleted  # Delta  Alloc. Size  Freed Size  Size Delta  Retained (new)')
  t.equal(lines[5], 'NativeConnection  5,000          0   +5,000      1.25 MB         0 B    +1.25 MB         9.87 MB')
  t.equal(lines[6], 'Schema                3         10       -7         96 B       320 B      -224 B             0 B')
})
