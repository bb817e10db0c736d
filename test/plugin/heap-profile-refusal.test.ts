// When the guard refuses a snapshot in a real memory cgroup, the sampling heap profile still names
// the leak: the 503 points at it, three profiles under load rank the leaking handler first for its
// route, and the process lives on without the OOM killer acting.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import autocannon from 'autocannon'
import t from 'tap'
import { findGrowingSites } from '../../analysis/index.js'
import { tempDir } from '../helpers/build-app.js'
import { call, startInCgroup } from '../helpers/cgroup-child.js'
import { createMemoryCgroup } from '../helpers/memory-cgroup.js'
import type { MemoryCgroup } from '../helpers/memory-cgroup.js'
import { missingPrerequisite } from '../helpers/missing-prerequisite.js'

const MB = 1_000_000
const FIXTURE = new URL('../fixtures/heap-profile-cgroup-app.ts', import.meta.url).pathname
const probe = createMemoryCgroup(t, 8 * 1024 * MB)
const skip = missingPrerequisite(t, typeof probe === 'string' ? probe : false)

t.test('a snapshot refused in a memory cgroup still leaves a profile that names the leak', { skip }, async (t) => {
  const cgroup = createMemoryCgroup(t, 8 * 1024 * MB) as MemoryCgroup
  const { child, ready } = await startInCgroup<{ port: number }>(t, cgroup, FIXTURE, { HEAP_OBJECTS: '300000', SNAPSHOT_DIR: tempDir(t, 'memdiag-profile-refusal-') })
  const url = `http://127.0.0.1:${ready.port}`
  const memory = await call(ready.port, 'GET', '/memory')
  const { estimatedBytes } = memory.body.snapshot
  // half of what the guard asks for: a snapshot would not fit, what the profile needs does
  cgroup.setLimit((memory.body.container.usageBytes as number) + Math.floor(estimatedBytes / 2))
  const refused = await call(ready.port, 'POST', '/heap-snapshot')
  t.equal(refused.statusCode, 503, `refused: estimate ${Math.round(estimatedBytes / MB)} MB`)
  t.match(refused.body.message, /the sampling heap profile is available: GET \/heap-profile/)
  t.match((await call(ready.port, 'GET', '/memory')).body.snapshot.reason, /the sampling heap profile is available/)

  const dir = t.testdir()
  const files: string[] = []
  const busy = autocannon({ url: `${url}/busy`, connections: 2, duration: 600 }, () => {})
  try {
    for (let i = 0; i < 3; i++) {
      await autocannon({ url: `${url}/leaking`, method: 'POST', connections: 2, amount: 1500 })
      const profile = await call(ready.port, 'GET', '/heap-profile')
      t.equal(profile.statusCode, 200, `profile ${i + 1}`)
      files.push(join(dir, `profile-${i}.heapprofile`))
      await writeFile(files[i]!, JSON.stringify(profile.body))
    }
  } finally {
    busy.stop()
  }
  const report = await findGrowingSites(files)
  const [first] = report.sites
  t.equal(first?.functionName, 'createSession', 'the leaking handler first')
  t.equal(first?.route?.route, 'POST /leaking')
  t.comment(`${first?.route?.bytesPerRequest} B per request; ${report.profiles.map((p) => p.samples).join(', ')} samples`)
  t.equal((await call(ready.port, 'GET', '/memory')).statusCode, 200, 'the process lives on')
  t.equal(child.signalCode, null)
  t.equal(cgroup.oomKills(), 0, 'the OOM killer never acted')
})
