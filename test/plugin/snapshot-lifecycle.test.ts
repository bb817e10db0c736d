import '../fixtures/snapshot-line-ends-warm-up.js'
import { existsSync } from 'node:fs'
import { setImmediate as nextLoopTurn } from 'node:timers/promises'
import t from 'tap'
import Fastify from 'fastify'
import { openCgroupProbe } from '../../plugin/cgroup.js'
import { coolDownMs, createSnapshotLifecycle, retryAfterSeconds } from '../../plugin/snapshot/lifecycle.js'
import { snapshotPaths } from '../../plugin/snapshot/names.js'
import { createSnapshotStore } from '../../plugin/snapshot/store.js'
import { tempDir } from '../helpers/build-app.js'

const MIB = 1024 * 1024

t.test('beforeWrite is called right before V8 writes; what it returns is kept as `requests`', async (t) => {
  const dir = tempDir(t)
  const store = createSnapshotStore({ dir, maxFiles: 3, maxAgeMs: 3_600_000 })
  const cgroup = openCgroupProbe('/sys/fs/cgroup', '/proc/self/cgroup')
  t.teardown(() => cgroup.close())
  const seen: Array<{ temp: boolean, final: boolean }> = []
  let id = ''
  const snapshots = createSnapshotLifecycle({
    store,
    cgroup,
    settings: { guard: false, marginBytes: 64 * MIB, maxHeapUsedBytes: null, cacheLineEnds: false },
    beforeWrite () {
      // the temporary file exists (created 0600) and nothing is written yet
      const paths = snapshotPaths(dir, id)
      seen.push({ temp: existsSync(paths.temp), final: existsSync(paths.file) })
      return { 'POST /posts': 12 }
    }
  })
  const log = Fastify().log
  const job = snapshots.take({ log })
  id = job.id
  const written = await job.written
  t.same(seen, [{ temp: true, final: false }], 'called once, synchronously, before the write')
  t.same(written.requests, { 'POST /posts': 12 })
  await snapshots.idle()
  t.same(snapshots.status({ heapUsedBytes: 1, container: cgroup.read(), systemAvailableBytes: 1e12, rssBytes: process.memoryUsage.rss() }).last?.requests, { 'POST /posts': 12 })
})

t.test('a hook that returns nothing adds no `requests`', async (t) => {
  const dir = tempDir(t)
  const store = createSnapshotStore({ dir, maxFiles: 3, maxAgeMs: 3_600_000 })
  const cgroup = openCgroupProbe('/sys/fs/cgroup', '/proc/self/cgroup')
  t.teardown(() => cgroup.close())
  const log = Fastify().log
  const none = createSnapshotLifecycle({
    store,
    cgroup,
    settings: { guard: false, marginBytes: 0, maxHeapUsedBytes: null, cacheLineEnds: false },
    beforeWrite: () => undefined
  })
  const plain = await none.take({ log }).written
  t.equal('requests' in plain, false, 'nothing returned: no `requests`')
  await none.idle()
})

t.test('the cool-down lasts a tenth of the block, from 250 ms to 5 s; Retry-After rounds what is left up to whole seconds', async (t) => {
  t.same([0, 1000, 2500, 30_000, 50_000, 600_000].map(coolDownMs), [250, 250, 250, 3000, 5000, 5000])
  t.same([0, 1, 250, 999, 1000, 1001, 2400, 4999, 5000].map(retryAfterSeconds), [1, 1, 1, 1, 1, 2, 3, 5, 5])
})

t.test('after the write the lock is held for the cool-down, refused as such with what is left; nothing is in progress', async (t) => {
  const dir = tempDir(t)
  const store = createSnapshotStore({ dir, maxFiles: 3, maxAgeMs: 3_600_000 })
  const cgroup = openCgroupProbe('/sys/fs/cgroup', '/proc/self/cgroup')
  t.teardown(() => cgroup.close())
  const snapshots = createSnapshotLifecycle({ store, cgroup, settings: { guard: false, marginBytes: 0, maxHeapUsedBytes: null, cacheLineEnds: false } })
  const log = Fastify().log
  const job = snapshots.take({ log })
  t.match(snapshots.refusal(), { code: 'FST_MEMDIAG_SNAPSHOT_IN_PROGRESS', statusCode: 409, retryAfterSeconds: 1 }, 'while it is written')
  const written = await job.written
  await job.finished
  await nextLoopTurn() // where a request queued behind the write is read
  const refused = snapshots.refusal() as { figures: { coolDownLeftMs: number }, retryAfterSeconds: number } | null
  t.match(refused, { code: 'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN', statusCode: 409, message: /^No heap snapshot is being taken: cooling down after the last one, the next can be taken in \d+ ms$/ })
  const left = refused?.figures.coolDownLeftMs ?? -1
  // rounded up to a whole ms, as a client waits it
  t.ok(left > 0 && left <= Math.ceil(coolDownMs(written.durationMs)), `${left} ms left of ${coolDownMs(written.durationMs)}`)
  t.equal(refused?.retryAfterSeconds, retryAfterSeconds(left))
  t.equal(snapshots.phase(job.id), 'cooling-down')
  const status = snapshots.status({ heapUsedBytes: 1, container: cgroup.read(), systemAvailableBytes: 1e12, rssBytes: process.memoryUsage.rss() })
  t.match(status, { allowed: false, inProgress: true, reason: /^cooling down after the last heap snapshot, \d+ ms left; / })
  const started = performance.now()
  await snapshots.idle()
  t.ok(performance.now() - started <= left + 100, 'released when it said, give or take a timer')
  t.equal(snapshots.refusal(), null)
})
