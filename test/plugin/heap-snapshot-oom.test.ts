// The OOM proof: a process whose heap snapshot cannot fit in its container's memory. With the
// headroom guard it answers 503 and lives on; without it the kernel's OOM killer ends it with
// SIGKILL mid-snapshot — no error, no log — which shows that the first half really tests something.
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { filesIn } from '../fixtures/snapshot-app.js'
import { build, tempDir } from '../helpers/build-app.js'
import { call, startInCgroup } from '../helpers/cgroup-child.js'
import { createMemoryCgroup } from '../helpers/memory-cgroup.js'
import type { MemoryCgroup } from '../helpers/memory-cgroup.js'
import { missingPrerequisite } from '../helpers/missing-prerequisite.js'
import type { Teardown } from '../helpers/build-app.js'

const MB = 1_000_000
const LIMIT_BYTES = 600 * 1024 * 1024 // well below 12.5 × 150 MB, well above what the app needs
const HEAP_MB = 150
const FIXTURE = new URL('../fixtures/snapshot-oom-app.ts', import.meta.url).pathname

interface Started {
  child: ChildProcess
  snapshotDir: string
  port: number
  heapUsedBytes: number
  output: () => string
}

/** Starts the app in its own process, moves it into the cgroup, then lets it build its heap. */
async function startApp (t: Teardown, cgroup: MemoryCgroup, guard: boolean): Promise<Started> {
  const snapshotDir = tempDir(t, 'memdiag-oom-')
  const env = { HEAP_MB: String(HEAP_MB), SNAPSHOT_DIR: snapshotDir, SNAPSHOT_GUARD: String(guard) }
  const { child, ready, output } = await startInCgroup<{ port: number, heapUsedBytes: number }>(t, cgroup, FIXTURE, env)
  return { child, snapshotDir, port: ready.port, heapUsedBytes: ready.heapUsedBytes, output }
}

const created = createMemoryCgroup(t, LIMIT_BYTES)
t.test('a snapshot that cannot fit in the container', { skip: missingPrerequisite(t, typeof created === 'string' ? created : false) }, async (t) => {
  const cgroup = created as MemoryCgroup
  t.comment(`cgroup ${cgroup.version}: ${cgroup.dir}, limit ${LIMIT_BYTES / MB} MB`)

  t.test('with the guard: 503 with the cgroup figures, and the process lives on', async (t) => {
    const app = await startApp(t, cgroup, true)
    // built until heapUsed reached HEAP_MB, garbage included: a GC since may have taken some back
    t.ok(app.heapUsedBytes >= 0.8 * HEAP_MB * MB, `heapUsed ${Math.round(app.heapUsedBytes / MB)} MB`)
    t.match(readFileSync(`/proc/${app.child.pid}/cgroup`, 'latin1'), cgroup.dir.split('/').pop() as string, 'the process is in the cgroup')

    const memory = await call(app.port, 'GET', '/memory')
    t.equal(memory.statusCode, 200)
    t.match(memory.body.container, {
      source: `cgroup-${cgroup.version}`,
      cgroupDir: cgroup.dir,
      limitBytes: LIMIT_BYTES,
      usageBytes: Number
    }, 'the plugin sees the limit through its cgroup probe')
    t.match(memory.body.snapshot, { allowed: false, source: `cgroup-${cgroup.version}`, inProgress: false, last: null })

    const refused = await call(app.port, 'POST', '/heap-snapshot')
    t.equal(refused.statusCode, 503)
    t.equal(refused.headers['retry-after'], '60')
    t.match(refused.body, {
      code: 'FST_MEMDIAG_INSUFFICIENT_HEADROOM',
      source: `cgroup-${cgroup.version}`,
      heapUsedBytes: Number,
      estimatedBytes: Number,
      availableBytes: Number
    })
    t.ok(refused.body.estimatedBytes > refused.body.availableBytes)
    t.ok(refused.body.availableBytes < LIMIT_BYTES)

    const after = await call(app.port, 'GET', '/memory')
    t.equal(after.statusCode, 200, 'still answering')
    t.equal(app.child.exitCode, null)
    t.equal(app.child.signalCode, null, 'still alive')
    t.equal(cgroup.oomKills(), 0, 'the OOM killer never acted')
  })

  t.test('without the guard: the OOM killer ends the process with SIGKILL, mid-snapshot', async (t) => {
    const app = await startApp(t, cgroup, false)
    // 'close': exited and its output read to the end
    const exited = once(app.child, 'close') as Promise<[number | null, NodeJS.Signals | null]>
    const outcome = await call(app.port, 'POST', '/heap-snapshot').then(
      (res) => `answered ${res.statusCode}`,
      (error: NodeJS.ErrnoException) => `no answer (${error.code ?? error.message})`
    )
    const [code, signal] = await exited
    t.equal(signal, 'SIGKILL', `killed by SIGKILL (exit code ${code})`)
    t.match(outcome, /^no answer/, 'the client got no answer at all')
    // The kernel updates the counter as it kills; read it once the exit is seen.
    let kills = cgroup.oomKills()
    for (let tries = 0; kills === 0 && tries < 100; tries++) {
      await sleep(10)
      kills = cgroup.oomKills()
    }
    t.ok(kills >= 1, `the cgroup's oom_kill counter is ${kills}`)
    t.notMatch(app.output(), /heap snapshot (written|failed)/, 'nothing logged about it')

    const left = filesIn(app.snapshotDir)
    t.match(left, [/^heap-.*\.heapsnapshot\.tmp$/], 'only a temporary file is left, that no one can take for a snapshot')
    t.equal(left.length, 1)
    await build(t, { snapshot: { dir: app.snapshotDir } })
    t.same(filesIn(app.snapshotDir), [], 'and the next start removes it (its writer is gone)')
  })
})
