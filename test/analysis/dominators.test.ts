import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'heap-snapshot-toolkit'
import t from 'tap'
import type { Test } from 'tap'
import { computeDominators } from '../../analysis/dominators.js'
import { parseHeapSnapshot } from '../../analysis/read-snapshot.js'
import { snapshotText, writeLeakSnapshots } from './fixtures.js'
import type { NodeSpec } from './fixtures.js'

interface DevToolsDominators {
  readonly retainedSizes: Float64Array
  readonly dominatorsTree: Uint32Array
}

/** What Chrome DevTools' own heap snapshot worker computes for the file. */
async function devTools (file: string): Promise<DevToolsDominators> {
  const snapshot = await parse(createReadStream(file, 'utf-8')) as unknown as DevToolsDominators
  return { retainedSizes: snapshot.retainedSizes, dominatorsTree: snapshot.dominatorsTree }
}

async function compare (t: Test, file: string): Promise<void> {
  const ours = computeDominators(await parseHeapSnapshot(file))
  const theirs = await devTools(file)
  t.equal(ours.retainedSize.length, theirs.retainedSizes.length, 'one retained size per node')
  let retainedMismatches = 0
  let dominatorMismatches = 0
  for (let i = 0; i < ours.retainedSize.length; i++) {
    if (ours.retainedSize[i] !== theirs.retainedSizes[i]) retainedMismatches++
    if (ours.idom[i] !== theirs.dominatorsTree[i]) dominatorMismatches++
  }
  t.equal(retainedMismatches, 0, 'every retained size is the one DevTools computes')
  t.equal(dominatorMismatches, 0, 'every immediate dominator is the one DevTools computes')
}

t.test('a real Node heap: dominators and retained sizes agree with Chrome DevTools node for node', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dominators-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const { after } = await writeLeakSnapshots(dir, 'DominatedThing', 3000)
  await compare(t, after)
})

t.test('weak edges, WeakMap tables, shortcuts, unreachable cycles and internal arrays are handled as DevTools does', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dominators-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const nodes: NodeSpec[] = [
    { type: 'synthetic', name: '', id: 1, edges: [{ type: 'shortcut', name: 'global', to: 1 }, { type: 'element', name: 1, to: 11 }] },
    { type: 'object', name: 'global', id: 3, size: 40, edges: [{ type: 'property', name: 'holder', to: 2 }, { type: 'property', name: 'self', to: 1 }] },
    { type: 'object', name: 'Holder', id: 5, size: 32, edges: [{ type: 'internal', name: 'elements', to: 3 }, { type: 'weak', name: 'w', to: 6 }] },
    { type: 'array', name: '', id: 7, size: 100, edges: [{ type: 'element', name: 0, to: 4 }, { type: 'element', name: 1, to: 5 }] },
    { type: 'object', name: 'Item', id: 9, size: 20, edges: [{ type: 'shortcut', name: 'skip', to: 7 }] },
    { type: 'object', name: 'Item', id: 11, size: 20, edges: [{ type: 'property', name: 'next', to: 4 }] },
    { type: 'object', name: 'OnlyWeak', id: 13, size: 50, edges: [{ type: 'property', name: 'x', to: 8 }] },
    { type: 'object', name: 'ShortcutTarget', id: 15, size: 10 },
    { type: 'object', name: 'FromWeak', id: 17, size: 10 },
    { type: 'object', name: 'CycleA', id: 19, size: 10, edges: [{ type: 'property', name: 'b', to: 10 }] },
    { type: 'object', name: 'CycleB', id: 21, size: 10, edges: [{ type: 'property', name: 'a', to: 9 }] },
    // The (GC roots) side: V8's own references into the user's graph do not own it.
    { type: 'synthetic', name: '(GC roots)', id: 23, edges: [{ type: 'element', name: 0, to: 5 }] }
  ]
  const file = join(dir, 'graph.heapsnapshot')
  await writeFile(file, snapshotText(nodes))
  await compare(t, file)
  const ours = computeDominators(await parseHeapSnapshot(file))
  t.equal(ours.selfSize[3], 0, 'an array owned by one object counts in its owner')
  t.equal(ours.selfSize[2], 132, 'the owner shows the array in its self size')
  t.equal(ours.idom[5], 3, 'an Item V8 also references is still dominated by the user\'s array')
  t.equal(ours.idom[6], 0, 'an object held only weakly hangs off the root')
  t.equal(ours.idom[9], 0, 'an unreachable cycle hangs off the root')
  t.equal(ours.retainedSize[2], 132 + 20 + 20, 'Holder retains its array and both Items, not what a shortcut edge points at')
})
