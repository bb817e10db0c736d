import t from 'tap'
import { availableHeadroom, checkHeadroom, estimateSnapshotBytes } from '../../plugin/headroom.js'
import type { HeadroomFigures, HeadroomSettings } from '../../plugin/headroom.js'

const MIB = 1024 * 1024
const settings: HeadroomSettings = { guard: true, factor: 12.5, marginBytes: 64 * MIB, maxHeapUsedBytes: null }
const noContainer = { source: 'none', limitBytes: null, usageBytes: null } as const

function figures (heapUsedMiB: number, container: HeadroomFigures['container'], systemAvailableMiB: number): HeadroomFigures {
  return { heapUsedBytes: heapUsedMiB * MIB, container, systemAvailableBytes: systemAvailableMiB * MIB }
}

t.test('the estimate is factor × heapUsed plus the margin', async (t) => {
  t.equal(estimateSnapshotBytes(100 * MIB, settings), 1250 * MIB + 64 * MIB)
  t.equal(estimateSnapshotBytes(0, settings), 64 * MIB)
  t.equal(estimateSnapshotBytes(3, { factor: 2.5, marginBytes: 0 }), 8, 'rounded up to whole bytes')
})

t.test('a cgroup limit bounds it (v1 and v2): limit minus usage', async (t) => {
  for (const source of ['cgroup-v1', 'cgroup-v2'] as const) {
    const container = { source, limitBytes: 600 * MIB, usageBytes: 220 * MIB }
    const refused = checkHeadroom(figures(150, container, 20_000), settings)
    t.same(refused, {
      allowed: false,
      reason: `a snapshot needs about 1939.0 MiB (12.5 × heapUsed 150.0 MiB + 64.0 MiB margin), more than the 380.0 MiB available (${source} limit 600.0 MiB minus usage 220.0 MiB)`,
      heapUsedBytes: 150 * MIB,
      estimatedBytes: 1939 * MIB,
      availableBytes: 380 * MIB,
      source
    }, source)
    const allowed = checkHeadroom(figures(20, container, 20_000), settings)
    t.match(allowed, { allowed: true, estimatedBytes: 314 * MIB, availableBytes: 380 * MIB, source, reason: /within the 380\.0 MiB available/ })
  }
  const over = checkHeadroom(figures(1, { source: 'cgroup-v2', limitBytes: 100 * MIB, usageBytes: 120 * MIB }, 20_000), settings)
  t.match(over, { allowed: false, availableBytes: 0 }, 'usage above the limit (page cache) is no headroom, not a negative one')
})

t.test('the machine\'s available memory bounds it when it is smaller, or when there is no cgroup limit', async (t) => {
  const container = { source: 'cgroup-v1', limitBytes: 8000 * MIB, usageBytes: 100 * MIB } as const
  t.match(checkHeadroom(figures(100, container, 1000), settings), {
    allowed: false, source: 'system', availableBytes: 1000 * MIB, reason: /MemAvailable of the machine/
  })
  t.match(checkHeadroom(figures(10, noContainer, 1000), settings), { allowed: true, source: 'system', estimatedBytes: 189 * MIB })
  const unlimited = { source: 'cgroup-v2', limitBytes: null, usageBytes: 500 * MIB } as const
  t.match(checkHeadroom(figures(10, unlimited, 1000), settings), { source: 'system' }, 'a cgroup without a limit does not bound it')
  t.equal(checkHeadroom(figures(10, unlimited, 1000), settings).availableBytes, 1000 * MIB)
})

t.test('snapshot.maxHeapUsedBytes refuses when heapUsed exceeds it, whatever the memory', async (t) => {
  const capped = { ...settings, maxHeapUsedBytes: 100 * MIB }
  const bound = availableHeadroom(figures(150, noContainer, 20_000), capped)
  t.same(bound, { source: 'maxHeapUsedBytes', bytes: estimateSnapshotBytes(100 * MIB, capped), detail: 'the budget of snapshot.maxHeapUsedBytes 100.0 MiB' })
  t.match(checkHeadroom(figures(150, noContainer, 20_000), capped), { allowed: false, source: 'maxHeapUsedBytes' })
  t.match(checkHeadroom(figures(100, noContainer, 20_000), capped), { allowed: true, source: 'maxHeapUsedBytes' }, 'exactly at the cap is allowed')
  const container = { source: 'cgroup-v1', limitBytes: 600 * MIB, usageBytes: 300 * MIB } as const
  t.match(checkHeadroom(figures(150, container, 20_000), capped), { allowed: false, source: 'cgroup-v1' }, 'the smallest bound wins')
})

t.test('with the guard disabled, the figures are reported but the snapshot is allowed', async (t) => {
  const container = { source: 'cgroup-v1', limitBytes: 600 * MIB, usageBytes: 220 * MIB } as const
  const verdict = checkHeadroom(figures(150, container, 20_000), { ...settings, guard: false })
  t.match(verdict, {
    allowed: true,
    source: 'cgroup-v1',
    availableBytes: 380 * MIB,
    reason: /^headroom guard disabled \(snapshot.guard: false\); a snapshot needs about 1939\.0 MiB .* more than the/
  })
})
