import t from 'tap'
import { estimateSnapshotCost, heapComposition, snapshotCostBound } from '../../plugin/snapshot/cost-model.js'
import { ESTIMATE_BASES } from '../../plugin/types/reports.js'
import { availableHeadroom, checkHeadroom } from '../../plugin/snapshot/headroom.js'
import type { HeadroomFigures, HeadroomSettings } from '../../plugin/snapshot/headroom.js'
import { detectAllocator, retainedMemory } from '../../plugin/snapshot/retained.js'

const MIB = 1024 * 1024
const settings: HeadroomSettings = { guard: true, marginBytes: 64 * MIB, maxHeapUsedBytes: null }
const noContainer = { source: 'none', limitBytes: null, usageBytes: null } as const

/** A heap of `otherMiB` in the regular spaces and `largeMiB` in large-object space. */
function figures (otherMiB: number, largeMiB: number, container: HeadroomFigures['container'], systemAvailableMiB: number, extra: Partial<HeadroomFigures> = {}): HeadroomFigures {
  return {
    heapUsedBytes: (otherMiB + largeMiB) * MIB,
    heap: { otherHeapBytes: otherMiB * MIB, largeObjectBytes: largeMiB * MIB },
    container,
    systemAvailableBytes: systemAvailableMiB * MIB,
    learned: null,
    reusableBytes: 0,
    ...extra
  }
}

t.test('the bound: 15 × regular-space bytes + the edges of huge objects, min(150 × large-object bytes, 40 × regular-space bytes)', async (t) => {
  t.equal(snapshotCostBound({ largeObjectBytes: 0, otherHeapBytes: 10 * MIB }), 150 * MIB, 'no huge object: 15 per byte')
  t.equal(snapshotCostBound({ largeObjectBytes: 1 * MIB, otherHeapBytes: 10 * MIB }), 300 * MIB, 'one 1 MiB array of pointers: 150 per byte of it')
  t.equal(snapshotCostBound({ largeObjectBytes: 1000 * MIB, otherHeapBytes: 10 * MIB }), 550 * MIB, 'big arrays of doubles: bounded by what they could point to')
  const estimate = estimateSnapshotCost({ largeObjectBytes: 1 * MIB, otherHeapBytes: 10 * MIB }, null, 64 * MIB)
  t.same(estimate, {
    basis: 'conservative-bound',
    estimatedBytes: (300 + 64) * MIB,
    boundBytes: 300 * MIB,
    learnedRatio: null,
    marginBytes: 64 * MIB,
    largeObjectBytes: 1 * MIB,
    otherHeapBytes: 10 * MIB,
    redactionBytes: 0
  })
  t.ok(ESTIMATE_BASES.includes(estimate.basis))
  t.equal(estimateSnapshotCost({ largeObjectBytes: 1 * MIB, otherHeapBytes: 10 * MIB }, null, 64 * MIB, 30 * MIB).estimatedBytes, (300 + 30 + 64) * MIB, 'redaction adds its own')
})

t.test('after a snapshot of a heap about this size, the ratio to the bound is learned, kept within [0.25, 1]', async (t) => {
  const heap = { largeObjectBytes: 1 * MIB, otherHeapBytes: 100 * MIB }
  const last = { largeObjectBytes: 1 * MIB, otherHeapBytes: 100 * MIB } // bound 1650 MiB
  const learned = estimateSnapshotCost(heap, { ...last, extraRssBytes: 660 * MIB }, 0)
  t.match(learned, { basis: 'learned', learnedRatio: 0.5, estimatedBytes: 825 * MIB })
  t.equal(estimateSnapshotCost(heap, { ...last, extraRssBytes: 10 * MIB }, 0).learnedRatio, 0.25, 'never below the floor')
  t.equal(estimateSnapshotCost(heap, { ...last, extraRssBytes: 9000 * MIB }, 0).learnedRatio, 1, 'never above the bound')
  const grown = estimateSnapshotCost({ largeObjectBytes: 1 * MIB, otherHeapBytes: 126 * MIB }, { ...last, extraRssBytes: 660 * MIB }, 0)
  t.match(grown, { basis: 'conservative-bound', learnedRatio: null }, 'a heap grown by more than 25% goes back to the bound')
  const biggerContainers = estimateSnapshotCost({ largeObjectBytes: 3 * MIB, otherHeapBytes: 100 * MIB }, { ...last, extraRssBytes: 660 * MIB }, 0)
  t.equal(biggerContainers.basis, 'conservative-bound', 'so does a large-object space that grew')
  t.equal(estimateSnapshotCost(heap, { extraRssBytes: 5 * MIB, largeObjectBytes: 0, otherHeapBytes: 0 }, 0).basis, 'conservative-bound', 'nothing learned from an empty heap')
})

t.test('the heap composition splits large-object spaces from the rest', async (t) => {
  const split = heapComposition([
    { space_name: 'old_space', space_used_size: 10 } as never,
    { space_name: 'large_object_space', space_used_size: 7 } as never,
    { space_name: 'new_large_object_space', space_used_size: 1 } as never,
    { space_name: 'new_space', space_used_size: 3 } as never
  ])
  t.same(split, { largeObjectBytes: 8, otherHeapBytes: 13 })
  const live = heapComposition()
  t.ok(live.otherHeapBytes > 0)
})

t.test('a cgroup limit bounds it (v1 and v2): limit minus usage, plus what the last snapshot left to reuse', async (t) => {
  for (const source of ['cgroup-v1', 'cgroup-v2'] as const) {
    const container = { source, limitBytes: 600 * MIB, usageBytes: 220 * MIB }
    const refused = checkHeadroom(figures(25, 0, container, 20_000), settings)
    t.match(refused, {
      allowed: false,
      reason: `a snapshot needs about 439.0 MiB (the bound for 25.0 MiB of regular heap and 0.0 KiB of large objects + 64.0 MiB margin), more than the 380.0 MiB available (${source} limit 600.0 MiB minus usage 220.0 MiB)`,
      estimatedBytes: 439 * MIB,
      availableBytes: 380 * MIB,
      source,
      basis: 'conservative-bound'
    }, source)
    const reusing = checkHeadroom(figures(25, 0, container, 20_000, { reusableBytes: 200 * MIB }), settings)
    t.match(reusing, { allowed: true, availableBytes: 580 * MIB, reason: /plus 200\.0 MiB the last snapshot left to reuse/ })
  }
  const over = checkHeadroom(figures(1, 0, { source: 'cgroup-v2', limitBytes: 100 * MIB, usageBytes: 120 * MIB }, 20_000), settings)
  t.match(over, { allowed: false, availableBytes: 0 }, 'usage above the limit (page cache) is no headroom, not a negative one')
})

t.test('the machine\'s available memory bounds it when it is smaller, or when there is no cgroup limit', async (t) => {
  const container = { source: 'cgroup-v1', limitBytes: 8000 * MIB, usageBytes: 100 * MIB } as const
  t.match(checkHeadroom(figures(100, 0, container, 1000), settings), { allowed: false, source: 'system', availableBytes: 1000 * MIB })
  const unlimited = { source: 'cgroup-v2', limitBytes: null, usageBytes: 500 * MIB } as const
  t.match(checkHeadroom(figures(10, 0, unlimited, 1000), settings), { source: 'system', allowed: true, availableBytes: 1000 * MIB })
})

t.test('snapshot.maxHeapUsedBytes refuses when heapUsed exceeds it, whatever the memory', async (t) => {
  const capped = { ...settings, maxHeapUsedBytes: 100 * MIB }
  const bound = availableHeadroom(figures(150, 0, noContainer, 20_000), 1000, capped)
  t.same(bound, { source: 'maxHeapUsedBytes', bytes: Math.floor((1000 - 64 * MIB) * 100 / 150) + 64 * MIB, detail: 'the budget of snapshot.maxHeapUsedBytes 100.0 MiB' })
  t.match(checkHeadroom(figures(150, 0, noContainer, 20_000), capped), { allowed: false, source: 'maxHeapUsedBytes' })
  t.match(checkHeadroom(figures(100, 0, noContainer, 20_000), capped), { allowed: true, source: 'maxHeapUsedBytes' }, 'exactly at the cap is allowed')
})

t.test('with the guard disabled, the figures are reported but the snapshot is allowed', async (t) => {
  const container = { source: 'cgroup-v1', limitBytes: 600 * MIB, usageBytes: 220 * MIB } as const
  t.match(checkHeadroom(figures(40, 0, container, 20_000), { ...settings, guard: false }), {
    allowed: true, availableBytes: 380 * MIB, reason: /^headroom guard disabled \(snapshot.guard: false\); a snapshot needs about .* more than the/
  })
})

t.test('what the last snapshot left: retained RSS, the reusable share, the allocator', async (t) => {
  t.same(retainedMemory('glibc', 900, null), { allocator: 'glibc', returnsMemory: false, retainedBytes: 0, reusableBytes: 0 })
  t.same(retainedMemory('glibc', 900, { rssBeforeBytes: 100, extraRssBytes: 1000 }), { allocator: 'glibc', returnsMemory: false, retainedBytes: 800, reusableBytes: 480 })
  t.same(retainedMemory('jemalloc', 2000, { rssBeforeBytes: 100, extraRssBytes: 1000 }), { allocator: 'jemalloc', returnsMemory: true, retainedBytes: 1000, reusableBytes: 0 }, 'never more than the snapshot added; jemalloc\'s not counted as reusable')
  t.same(retainedMemory('jemalloc', 50, { rssBeforeBytes: 100, extraRssBytes: 1000 }), { allocator: 'jemalloc', returnsMemory: true, retainedBytes: 0, reusableBytes: 0 })
  t.same(retainedMemory('glibc', 900, { rssBeforeBytes: null, extraRssBytes: null }).retainedBytes, 0)
  t.equal(detectAllocator('/nonexistent/maps'), 'unknown')
  t.equal(detectAllocator(), process.env.LD_PRELOAD?.includes('jemalloc') === true ? 'jemalloc' : 'glibc')
})
