import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { runDemo } from '../helpers/demo-process.js'

// The leaking phase is capped by requests, not seconds: 200 (100 per interval) name the culprit
// as surely as the demo's 3,000 and keep its snapshots small. The fixed phase keeps 12 s: what
// the finder sees there is in-flight noise judged against the phase's request count, so fewer
// requests would let a handful of timers pass for a leak.
t.test('npm run demo (short phases) names the Mongoose connection with the leak finder, and nothing for the fixed phase', async (t) => {
  const out = t.testdir()
  const { code, stdout, stderr } = await runDemo([
    '--phase-seconds', '4', '--fixed-seconds', '12', '--warmup-seconds', '2', '--connections', '4', '--leaking-requests', '200', '--out', out
  ])
  t.equal(code, 0, (stdout + stderr).slice(-3000))
  const verdict = stdout.split('\n').find((line) => line.startsWith('Verdict: '))
  t.match(verdict, /^Verdict: POST \/leaking-posts leaks (0\.9\d|1\.0\d) NativeConnection per request .*held by Array Mongoose\.connections/, 'the culprit: one Mongoose connection per request, and where it is held')
  t.match(verdict, /POST \/posts leaves no leak candidate above the noise/, 'the fixed phase leaves nothing above the noise')
  t.match(stdout, /Retainer path of the culprit:\n {2}\(GC roots\) → .*→ NativeConnection\n/)
  t.match(stdout, /find-leaks C D E \(POST \/leaking-posts\), first 3 candidates:\n/, 'the finder\'s own report is printed')

  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))
  t.same(report.fixedLeaks, [], 'no candidate above the noise while /posts was under load')
  t.equal(report.leakingReport.candidates[0].className, 'NativeConnection', 'the finder\'s first candidate for the leaking phase')
  t.ok(report.phases[1].last.mongooseConnections - report.phases[1].first.mongooseConnections >= report.phases[1].requests * 0.9, 'connections grew with the leaking requests')
  t.equal(report.phases[1].requests, 200, 'the leaking phase stopped at --leaking-requests')
  t.equal(report.phases[0].last.mongooseConnections, report.phases[0].first.mongooseConnections, 'and not with the fixed ones')

  const markdown = await readFile(join(out, 'report.md'), 'utf8')
  t.match(markdown, /^# Leak reproduction report/)
  t.match(markdown, /!\[heapUsed and RSS over time\]\(memory\.svg\)/)
  const svg = await readFile(join(out, 'memory.svg'), 'utf8')
  t.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.match(svg, /<polyline [^>]*points="[\d., ]+"/)
  t.same((await readdir(join(out, 'snapshots'))).sort(), ['A', 'B', 'C', 'D', 'E'].map((name) => `${name}.heapsnapshot.gz`), 'three snapshots per phase, C shared')
})
