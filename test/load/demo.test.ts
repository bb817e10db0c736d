import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { runDemo } from '../helpers/demo-process.js'

// The leaking phase is capped by requests, not seconds: 200 (100 per interval) name the culprit
// as surely as the demo's 3,000 and keep its snapshots small. The fixed phase keeps 12 s: what
// the finder sees there is in-flight noise judged against the phase's request count, so fewer
// requests would let a handful of timers pass for a leak. The heap profile is read after C, D
// and E (three reads: a second or so); at 8 KiB its app calls are ranked from ~500 samples each,
// where 32 KiB left createConnection's lead over the model's compile within two sigmas.
t.test('npm run demo (short phases) names the Mongoose connection with the leak finder, and nothing for the fixed phase', async (t) => {
  const out = t.testdir()
  const { code, stdout, stderr } = await runDemo([
    '--phase-seconds', '4', '--fixed-seconds', '12', '--warmup-seconds', '2', '--connections', '4', '--leaking-requests', '200', '--profile-interval-kib', '8', '--out', out
  ])
  t.equal(code, 0, (stdout + stderr).slice(-3000))
  const verdict = stdout.split('\n').find((line) => line.startsWith('Verdict: '))
  t.match(verdict, /^Verdict: POST \/leaking-posts leaks (0\.9\d|1\.0\d) NativeConnection per request .*held by Array Mongoose\.connections/, 'the culprit: one Mongoose connection per request, and where it is held')
  t.match(verdict, /POST \/posts leaves no leak candidate above the noise/, 'the fixed phase leaves nothing above the noise')
  t.match(stdout, /Retainer path of the culprit:\n {2}\(GC roots\) → .*→ NativeConnection\n/)
  t.match(stdout, /find-leaks C D E \(POST \/leaking-posts\), first 3 candidates:\n/, 'the finder\'s own report is printed')
  t.match(stdout, /\nHeap profile \(C D E\): POST \/leaking-posts grows \d+\.\d kB of live heap per request allocated under postModel \(demo-app\/tenants\/leaking-tenant-connections\.ts:\d+\) → createConnection \(node_modules\/mongoose\/lib\/mongoose\.js:\d+\)/,
    'the heap profile names the app\'s createConnection call, per request of the leaking route')

  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))
  t.same(report.fixedLeaks, [], 'no candidate above the noise while /posts was under load')
  t.equal(report.leakingReport.candidates[0].className, 'NativeConnection', 'the finder\'s first candidate for the leaking phase')
  t.ok(report.phases[1].last.mongooseConnections - report.phases[1].first.mongooseConnections >= report.phases[1].requests * 0.9, 'connections grew with the leaking requests')
  t.equal(report.phases[1].requests, 200, 'the leaking phase stopped at --leaking-requests')
  t.equal(report.phases[0].last.mongooseConnections, report.phases[0].first.mongooseConnections, 'and not with the fixed ones')
  const call = report.profileCulprit
  const source = await readFile(new URL('../../demo-app/tenants/leaking-tenant-connections.ts', import.meta.url), 'utf8')
  const lines = source.split('\n')
  t.equal(lines[call.frame.source.line - 1]?.trim(), 'postModel (tenant) {', 'the profile\'s app frame is the leaking tenant code, at its line')
  t.match(lines[call.frame.source.line], /mongoose\.createConnection\(/, 'whose first line is the createConnection call')
  t.equal(call.route.route, 'POST /leaking-posts')
  t.equal(call.route.requests, 200, 'the leaking requests between the first profile and the last')
  // a connection with its MongoClient and a compiled model keep ~70 kB of heap: the share allocated under the call itself
  t.ok(call.route.bytesPerRequest > 5_000 && call.route.bytesPerRequest < 100_000, `${call.route.bytesPerRequest} B per request under createConnection`)

  const markdown = await readFile(join(out, 'report.md'), 'utf8')
  t.match(markdown, /^# Leak reproduction report/)
  t.match(markdown, /!\[heapUsed and RSS over time\]\(memory\.svg\)/)
  const svg = await readFile(join(out, 'memory.svg'), 'utf8')
  t.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.match(svg, /<polyline [^>]*points="[\d., ]+"/)
  t.same((await readdir(join(out, 'snapshots'))).sort(),
    [...['A', 'B', 'C', 'D', 'E'].map((name) => `${name}.heapsnapshot.gz`), ...['C', 'D', 'E'].map((name) => `${name}.heapprofile`)].sort(),
    'three snapshots per phase, C shared, and a heap profile with each of the leaking phase\'s')
})
