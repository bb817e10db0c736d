import '../fixtures/snapshot-line-ends-warm-up.js'
import { existsSync } from 'node:fs'
import t from 'tap'
import Fastify from 'fastify'
import { openCgroupProbe } from '../../plugin/cgroup.js'
import { createSnapshotLifecycle } from '../../plugin/snapshot/lifecycle.js'
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
