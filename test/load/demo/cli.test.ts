// The demo's entry as a process: what it does on Ctrl-C and with a bad argument (its full run is
// test/load/demo.test.ts, a file of its own so that tap runs the two side by side).
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { uncoveredChildEnv } from '../../helpers/child-env.js'
import { DEMO as demo, runDemo } from '../../helpers/demo-process.js'

function parentsByPid (): Map<number, number> {
  const lines = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n')
  return new Map(lines.map((line) => line.trim().split(/\s+/).map(Number) as [number, number]))
}

function descendantsOf (root: number): number[] {
  const parents = parentsByPid()
  const found = new Set([root])
  let grew = true
  while (grew) {
    grew = false
    for (const [pid, ppid] of parents) {
      if (found.has(ppid) && !found.has(pid)) { found.add(pid); grew = true }
    }
  }
  found.delete(root)
  return [...found]
}

/** Polls `done` every 100 ms until it holds or `ms` have passed; returns whether it held. */
async function eventually (done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  return done()
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('Ctrl-C stops the demo app and its database: no process left behind', async (t) => {
  const out = t.testdir()
  const child = spawn(process.execPath, ['--import', 'tsx', demo, '--phase-seconds', '30', '--out', out], { env: uncoveredChildEnv() })
  let output = ''
  const closed = once(child, 'close') as Promise<[number]>
  const ready = new Promise<'ready'>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      if (/demo app ready/.test(output)) resolve('ready')
    })
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  // A demo that dies during start-up must fail here, not leave the test waiting for output forever.
  const started = await Promise.race([ready, closed.then(() => 'exited')])
  t.equal(started, 'ready', output)
  if (started !== 'ready') return
  let during: number[] = []
  t.ok(await eventually(() => (during = descendantsOf(child.pid!)).length >= 2, 10_000), `the app and the database run under the demo (${during.length} processes)`)
  child.kill('SIGINT')
  const [code] = await closed
  t.equal(code, 130)
  t.ok(await eventually(() => !during.some(isRunning), 10_000), 'every process the demo started is gone')
  t.same(during.filter(isRunning), [])
})

t.test('a bad numeric argument is a clear error and exit 2, before anything is started', async (t) => {
  const { code, stdout, stderr } = await runDemo(['--leaking-requests', '0'])
  t.equal(code, 2)
  t.match(stderr, /^--leaking-requests must be a positive integer, got "0"\nusage: load\/demo\.ts \[--phase-seconds 30\]/)
  t.equal(stdout, '', 'no app started')
})
