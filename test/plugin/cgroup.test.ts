import t from 'tap'
import type { Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { locate, openCgroupProbe, parseLimit } from '../../plugin/cgroup.js'

const V1_NO_LIMIT = '9223372036854771712\n'

// Fixture trees stand in for /sys/fs/cgroup and /proc/self/cgroup: the only thing we mock.
function fixture (t: Test, procSelfCgroup: string | null, files: Record<string, string>) {
  const dir = t.testdir({ 'proc-self-cgroup': procSelfCgroup ?? '', ...nest(files) })
  return { root: join(dir, 'cgroup'), proc: join(dir, procSelfCgroup === null ? 'missing' : 'proc-self-cgroup') }
}

function nest (files: Record<string, string>) {
  const tree: Record<string, any> = {}
  for (const [path, content] of Object.entries(files)) {
    const parts = ['cgroup', ...path.split('/')]
    let node: Record<string, any> = tree
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {})
    node[parts.at(-1)!] = content
  }
  return tree
}

t.test('parseLimit', async (t) => {
  t.equal(parseLimit('536870912\n'), 536870912)
  t.equal(parseLimit('max\n'), null, 'v2 "max" is no limit')
  t.equal(parseLimit(V1_NO_LIMIT), null, 'v1 LONG_MAX page-rounded is no limit')
  t.equal(parseLimit('18446744073709551615'), null, 'about 2^64 is no limit')
  t.equal(parseLimit(''), null)
  t.equal(parseLimit('garbage'), null)
})

t.test('cgroup v2 with a limit', async (t) => {
  const { root, proc } = fixture(t, '0::/app.slice/web\n', {
    'app.slice/memory.max': 'max\n',
    'app.slice/web/memory.max': '536870912\n',
    'app.slice/web/memory.current': '104857600\n'
  })
  const probe = openCgroupProbe(root, proc)
  t.teardown(() => probe.close())
  t.match(probe.read(), {
    source: 'cgroup-v2',
    cgroupDir: join(root, 'app.slice/web'),
    limitBytes: 536870912,
    limitFile: join(root, 'app.slice/web/memory.max'),
    usageBytes: 104857600,
    usageFile: join(root, 'app.slice/web/memory.current')
  })
  writeFileSync(join(root, 'app.slice/web/memory.current'), '209715200\n')
  t.equal(probe.read().usageBytes, 209715200, 'usage is re-read on every call through the kept descriptor')
})

t.test('cgroup v2 "max" is no limit, unless an ancestor has one', async (t) => {
  const open = fixture(t, '0::/web\n', { 'web/memory.max': 'max\n', 'web/memory.current': '1000\n' })
  const unlimited = openCgroupProbe(open.root, open.proc)
  t.teardown(() => unlimited.close())
  t.match(unlimited.read(), { source: 'cgroup-v2', limitBytes: null, limitFile: null, usageBytes: 1000 })

  const nested = fixture(t, '0::/parent/web\n', {
    'parent/memory.max': '1073741824\n',
    'parent/web/memory.max': 'max\n',
    'parent/web/memory.current': '1000\n'
  })
  const bounded = openCgroupProbe(nested.root, nested.proc)
  t.teardown(() => bounded.close())
  t.match(bounded.read(), { limitBytes: 1073741824, limitFile: join(nested.root, 'parent/memory.max') })
})

t.test('cgroup v1 with a limit', async (t) => {
  const { root, proc } = fixture(t, '5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n', {
    'memory/memory.limit_in_bytes': V1_NO_LIMIT,
    'memory/memory.usage_in_bytes': '1\n',
    'memory/docker/memory.limit_in_bytes': V1_NO_LIMIT,
    'memory/docker/abc/memory.limit_in_bytes': '268435456\n',
    'memory/docker/abc/memory.usage_in_bytes': '73400320\n'
  })
  const probe = openCgroupProbe(root, proc)
  t.teardown(() => probe.close())
  t.match(probe.read(), {
    source: 'cgroup-v1',
    cgroupDir: join(root, 'memory/docker/abc'),
    limitBytes: 268435456,
    usageBytes: 73400320
  })
})

t.test('cgroup v1 "no limit" (9223372036854771712) is reported as null', async (t) => {
  const { root, proc } = fixture(t, '4:memory:/\n', {
    'memory/memory.limit_in_bytes': V1_NO_LIMIT,
    'memory/memory.usage_in_bytes': '73400320\n'
  })
  const probe = openCgroupProbe(root, proc)
  t.teardown(() => probe.close())
  t.match(probe.read(), { source: 'cgroup-v1', limitBytes: null, limitFile: null, usageBytes: 73400320 })
})

t.test('a namespaced cgroup path missing under the mount falls back to the mount root', async (t) => {
  const { root, proc } = fixture(t, '4:memory:/kubepods/pod1/ctr\n', {
    'memory/memory.limit_in_bytes': '134217728\n',
    'memory/memory.usage_in_bytes': '1000\n'
  })
  t.match(locate(root, proc), { version: 'v1', dir: join(root, 'memory') })
  const probe = openCgroupProbe(root, proc)
  t.teardown(() => probe.close())
  t.equal(probe.read().limitBytes, 134217728)
})

t.test('no cgroup at all', async (t) => {
  const missingProc = fixture(t, null, {})
  t.equal(locate(missingProc.root, missingProc.proc), null, 'no /proc/self/cgroup')
  const noFiles = fixture(t, '4:memory:/x\n0::/x\n', {})
  t.equal(locate(noFiles.root, noFiles.proc), null, 'membership listed but no memory files')
  const noMemoryLine = fixture(t, '3:cpu:/\n', {})
  const probe = openCgroupProbe(noMemoryLine.root, noMemoryLine.proc)
  t.teardown(() => probe.close())
  t.match(probe.read(), { source: 'none', cgroupDir: null, limitBytes: null, usageBytes: null })
})

t.test('hybrid hosts: the v1 memory controller wins over the unified line', async (t) => {
  const { root, proc } = fixture(t, '0::/user.slice\n4:memory:/user.slice\n', {
    'memory/user.slice/memory.limit_in_bytes': '1048576000\n',
    'memory/user.slice/memory.usage_in_bytes': '1000\n',
    'user.slice/memory.current': '2000\n'
  })
  t.match(locate(root, proc), { version: 'v1' })
})
