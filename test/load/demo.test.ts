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

t.test('npm run demo (short phases) names a Mongoose connection class for the leaking phase', async (t) => {
  const out = t.testdir()
  const child = spawn(process.execPath, ['--import', 'tsx', demo, '--phase-seconds', '6', '--warmup-seconds', '2', '--connections', '4', '--out', out], { env: uncoveredChildEnv() })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  const [code] = await once(child, 'close') as [number]
  t.equal(code, 0, stdout.slice(-3000))

  const verdict = stdout.split('\n').find((line) => line.startsWith('Verdict: '))
  t.match(verdict, /^Verdict: POST \/leaking-posts leaks [\d.]+ (NativeConnection|MongoClient|Connection) per request/, 'the culprit is a Mongoose connection type')
  t.match(verdict, /POST \/posts grew no class with its requests/, 'the fixed phase shows no class growing with its requests')
  t.match(stdout, /Retainer path of the culprit:\n {2}\(GC roots\) → .*→ (NativeConnection|MongoClient|Connection)\n/)

  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))
  const fixedRows = report.diffAB.rows as Array<{ className: string, countDelta: number }>
  const mongooseGrowth = fixedRows.filter((row) => /Connection|MongoClient|Topology|Model/.test(row.className) && row.countDelta > 2)
  t.same(mongooseGrowth, [], 'no Mongoose-related class grew above noise while /posts was under load')
  t.ok(report.phases[1].last.mongooseConnections - report.phases[1].first.mongooseConnections >= report.phases[1].requests * 0.9, 'connections grew with the leaking requests')
  t.equal(report.phases[0].last.mongooseConnections, report.phases[0].first.mongooseConnections, 'and not with the fixed ones')

  const markdown = await readFile(join(out, 'report.md'), 'utf8')
  t.match(markdown, /^# Leak reproduction report/)
  t.match(markdown, /!\[heapUsed and RSS over time\]\(memory\.svg\)/)
  const svg = await readFile(join(out, 'memory.svg'), 'utf8')
  t.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.match(svg, /<polyline [^>]*points="[\d., ]+"/)
  t.same((await readdir(join(out, 'snapshots'))).sort(), ['A.heapsnapshot.gz', 'B.heapsnapshot.gz', 'C.heapsnapshot.gz'])
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
