import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createProcessStatusReader, parseProcessStatus } from '../../plugin/process-status.js'

const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
VmRSS:\t   83788 kB
RssAnon:\t   39040 kB
RssFile:\t   44748 kB
RssShmem:\t       0 kB
VmSwap:\t       0 kB
Threads:\t12
SigQ:\t0/95448
`

t.test('parses the anonymous, file-backed and shared RSS and the threads of /proc/self/status', async (t) => {
  t.same(parseProcessStatus(STATUS), { rssAnonBytes: 39040 * 1024, rssFileBytes: 44748 * 1024, rssShmemBytes: 0, threads: 12 })
  t.equal(parseProcessStatus(STATUS.replace(/^Threads:.*$/m, '')), null, 'a field missing (an old kernel): null, not a guess')
  t.equal(parseProcessStatus(''), null)
})

t.test('reads this process, and stops trying where /proc is missing', async (t) => {
  const status = createProcessStatusReader()()
  t.ok(status !== null && status.rssAnonBytes > 0 && status.threads > 1, 'this machine is Linux')
  const dir = t.testdir({ status: STATUS })
  const file = join(dir, 'status')
  const read = createProcessStatusReader(file)
  t.equal(read()?.threads, 12)
  const absent = join(dir, 'absent')
  const missing = createProcessStatusReader(absent)
  t.equal(missing(), null)
  writeFileSync(absent, STATUS)
  t.equal(missing(), null, 'once failed, it does not read again (a timer calls it every few seconds)')
})
