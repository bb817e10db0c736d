import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { uncoveredChildEnv } from '../helpers/child-env.js'

const demo = fileURLToPath(new URL('../../load/demo.ts', import.meta.url))

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

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('npm run demo (short phases) names the Mongoose connection with the leak finder, and nothing for the fixed phase', async (t) => {
  const out = t.testdir()
  const child = spawn(process.execPath, ['--import', 'tsx', demo, '--phase-seconds', '6', '--warmup-seconds', '2', '--connections', '4', '--out', out], { env: uncoveredChildEnv() })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  const [code] = await once(child, 'close') as [number]
  t.equal(code, 0, stdout.slice(-3000))

  const verdict = stdout.split('\n').find((line) => line.startsWith('Verdict: '))
  t.match(verdict, /^Verdict: POST \/leaking-posts leaks (0\.9\d|1\.0\d) NativeConnection per request .*held by Array Mongoose\.connections/, 'the culprit: one Mongoose connection per request, and where it is held')
  t.match(verdict, /POST \/posts leaves no leak candidate above the noise/, 'the fixed phase leaves nothing above the noise')
  t.match(stdout, /Retainer path of the culprit:\n {2}\(GC roots\) → .*→ NativeConnection\n/)
  t.match(stdout, /find-leaks C D E \(POST \/leaking-posts\), first 3 candidates:\n/, 'the finder\'s own report is printed')

  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))
  t.same(report.fixedLeaks, [], 'no candidate above the noise while /posts was under load')
  t.equal(report.leakingReport.candidates[0].className, 'NativeConnection', 'the finder\'s first candidate for the leaking phase')
  t.ok(report.phases[1].last.mongooseConnections - report.phases[1].first.mongooseConnections >= report.phases[1].requests * 0.9, 'connections grew with the leaking requests')
  t.equal(report.phases[0].last.mongooseConnections, report.phases[0].first.mongooseConnections, 'and not with the fixed ones')

  const markdown = await readFile(join(out, 'report.md'), 'utf8')
  t.match(markdown, /^# Leak reproduction report/)
  t.match(markdown, /!\[heapUsed and RSS over time\]\(memory\.svg\)/)
  const svg = await readFile(join(out, 'memory.svg'), 'utf8')
  t.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.match(svg, /<polyline [^>]*points="[\d., ]+"/)
  t.same((await readdir(join(out, 'snapshots'))).sort(), ['A', 'B', 'C', 'D', 'E'].map((name) => `${name}.heapsnapshot.gz`), 'three snapshots per phase, C shared')
})

t.test('Ctrl-C stops the demo app and its database: no process left behind', async (t) => {
  const out = t.testdir()
  const child = spawn(process.execPath, ['--import', 'tsx', demo, '--phase-seconds', '30', '--out', out], { env: uncoveredChildEnv() })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  while (!/demo app ready/.test(stdout)) await once(child.stdout, 'data')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const during = descendantsOf(child.pid!)
  t.ok(during.length >= 2, `the app and the database run under the demo (${during.length} processes)`)
  child.kill('SIGINT')
  const [code] = await once(child, 'close') as [number]
  t.equal(code, 130)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const left = during.filter(isRunning)
  t.same(left, [], 'every process the demo started is gone')
})
