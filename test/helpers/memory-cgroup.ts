import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Teardown } from '../helpers/build-app.js'

export interface MemoryCgroup {
  version: 'v1' | 'v2'
  dir: string
  /** Sets the limit (below the usage, v1 refuses with EBUSY). */
  setLimit (bytes: number): void
  /** How many times the OOM killer acted in it. */
  oomKills (): number
}

/** Creates a memory-limited cgroup (v1 or v2), removed in teardown; a string says why it cannot. */
export function createMemoryCgroup (t: Teardown, limitBytes: number): MemoryCgroup | string {
  const name = `memdiag-test-${randomBytes(4).toString('hex')}`
  const v1Root = '/sys/fs/cgroup/memory'
  try {
    if (existsSync(join(v1Root, 'memory.limit_in_bytes'))) {
      const dir = join(v1Root, name)
      mkdirSync(dir)
      t.teardown(async () => { await removeCgroup(dir) })
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes))
      return {
        version: 'v1',
        dir,
        setLimit: (bytes) => { writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes)) },
        oomKills: () => counter(join(dir, 'memory.oom_control'), 'oom_kill')
      }
    }
    const v2Root = '/sys/fs/cgroup'
    if (!readFileSync(join(v2Root, 'cgroup.controllers'), 'latin1').split(/\s+/).includes('memory')) {
      return 'no cgroup v1 memory controller, and the v2 hierarchy at /sys/fs/cgroup has no memory controller'
    }
    const dir = join(v2Root, name)
    mkdirSync(dir)
    t.teardown(async () => { await removeCgroup(dir) })
    if (!existsSync(join(dir, 'memory.max'))) writeFileSync(join(v2Root, 'cgroup.subtree_control'), '+memory')
    writeFileSync(join(dir, 'memory.max'), String(limitBytes))
    if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0')
    return {
      version: 'v2',
      dir,
      setLimit: (bytes) => { writeFileSync(join(dir, 'memory.max'), String(bytes)) },
      oomKills: () => counter(join(dir, 'memory.events'), 'oom_kill')
    }
  } catch (error) {
    return `cannot create a memory cgroup here (${(error as Error).message}); needs root and a writable cgroup hierarchy`
  }
}

/**
 * Removes a cgroup once its last task has left: a child SIGKILLed in teardown can still be listed
 * for a moment after its exit event (measured once in a fresh-clone CI run: EBUSY). Gives up after
 * 2 s, naming what is left in it.
 */
async function removeCgroup (dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 40) {
        const procs = existsSync(join(dir, 'cgroup.procs')) ? readFileSync(join(dir, 'cgroup.procs'), 'latin1').trim() : ''
        throw new Error(`cannot remove the cgroup ${dir} (${(error as Error).message}); processes still in it: ${procs === '' ? 'none' : procs}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

export function counter (file: string, name: string): number {
  const line = readFileSync(file, 'latin1').split('\n').find((entry) => entry.startsWith(`${name} `))
  return Number(line?.split(' ')[1] ?? 0)
}
