import { expect, test } from 'tstyche'
import { diffHeapSnapshots, formatHeapDiff, parseHeapSnapshot } from '../../analysis/index.js'
import type { HeapDiff, HeapSnapshot } from '../../analysis/index.js'

test('the analysis entry', () => {
  expect(diffHeapSnapshots('a.heapsnapshot', 'b.heapsnapshot')).type.toBe<Promise<HeapDiff>>()
  expect(diffHeapSnapshots('a.heapsnapshot', 'b.heapsnapshot', { top: 10 })).type.toBe<Promise<HeapDiff>>()
  expect(diffHeapSnapshots('a.heapsnapshot')).type.toRaiseError()
  expect(parseHeapSnapshot('a.heapsnapshot')).type.toBe<Promise<HeapSnapshot>>()
  expect(formatHeapDiff).type.toBeCallableWith({} as HeapDiff)
})
