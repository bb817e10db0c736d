import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { main } from '../../analysis/cli.js'
import { fileKind } from '../../analysis/file-kind.js'
import { errorCodes, findGrowingSites, formatGrowingSites } from '../../analysis/index.js'
import type { GrowingSitesReport } from '../../analysis/index.js'
import { gzipFile, rootedGraph, snapshotText } from './fixtures.js'
import { leakSeries, librarySeries, writeProfiles } from './heap-profile-fixtures.js'

async function run (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(args, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: (text: string) => { stderr += text } } })
  return { code, stdout, stderr }
}

t.test('the sites that grew in every interval, most growth first, with their route per request', async (t) => {
  const files = writeProfiles(t.testdir(), leakSeries())
  const report = await findGrowingSites(files)
  t.same(report.sites.map((s) => `${s.functionName}@${s.line}`), ['Session@30', 'leakHandler@10'], 'garbage and the filled-once cache drop out')
  const [first] = report.sites
  t.match(first, {
    url: 'file:///srv/app.js',
    column: 5,
    bytes: [64_000, 128_000, 192_000],
    growthBytes: 128_000,
    route: { route: 'POST /leak', requests: 2000, bytesPerRequest: 64 }
  })
  t.same(first?.stack.map((f) => f.functionName), ['Session', 'leakHandler', 'processTicks'], 'innermost first')
  t.equal(report.growingCount, 2)
  t.match(report.profiles[0], { samples: 4, liveBytes: 214_000, pid: 4242, requestCounts: { 'POST /leak': 100 } })
  t.same(report.notes, [])
  const text = formatGrowingSites(report)
  t.match(text, /1\. Session \(file:\/\/\/srv\/app\.js:30:5\)\n {3}live: 64\.0 kB → 128\.0 kB → 192\.0 kB \(\+128\.0 kB\)\n {3}route: POST \/leak \(its handler is on the stack; 2000 requests, 64 B per request\)/)
  t.match(text, / {5}at leakHandler \(file:\/\/\/srv\/app\.js:10:5\)/)
})

t.test('a leak inside a library: the growth summed by the app\'s own call into it, with the function it called', async (t) => {
  const report = await findGrowingSites(writeProfiles(t.testdir(), librarySeries()))
  t.same(report.sites.map((s) => s.functionName), ['connect', 'compile', 'Connection', 'addListener'], 'the library\'s sites, each small')
  t.same(report.appCalls.map((c) => `${c.frame.functionName} → ${c.callee?.functionName ?? '-'}`), ['postModel → createConnection', 'postModel → model'],
    'summed by the app\'s call: the driver\'s own callbacks, with no app frame, are left out')
  t.match(report.appCalls[0], {
    frame: { functionName: 'postModel', url: 'file:///srv/app.js', line: 20 },
    callee: { functionName: 'createConnection', url: 'file:///srv/node_modules/mongoose/lib/mongoose.js', line: 409 },
    bytes: [2, 17_002, 34_002],
    growthBytes: 34_000,
    route: { route: 'POST /leaking-posts', requests: 2000, bytesPerRequest: 17 }
  })
  const text = formatGrowingSites(report)
  t.match(text, /\nThe same growth by the app's own call that led to it \(its innermost frame outside node_modules, and what it called\), most growth first:\n\n1\. postModel \(file:\/\/\/srv\/app\.js:20:5\) → createConnection \(file:\/\/\/srv\/node_modules\/mongoose\/lib\/mongoose\.js:409:5\)\n {3}live: 2 B → 17\.0 kB → 34\.0 kB \(\+34\.0 kB\)\n {3}route: POST \/leaking-posts \(its handler is on the stack; 2000 requests, 17 B per request\)\n/)
  const one = formatGrowingSites(await findGrowingSites(writeProfiles(t.testdir(), [librarySeries()[2]!])))
  t.match(one, /\nLive bytes by the app's own call that led to them [^\n]*\n\n1\. postModel [^\n]* → createConnection [^\n]*\n {3}live: 34\.0 kB\n/)
})

t.test('a site that did not grow in one interval is left out; --top cuts', async (t) => {
  const series = leakSeries()
  series[2]!.stacks[0]!.bytes = 128_000
  const report = await findGrowingSites(writeProfiles(t.testdir(), series), { top: 5 })
  t.same(report.sites.map((s) => s.functionName), ['leakHandler'])
  const cut = await findGrowingSites(writeProfiles(t.testdir(), leakSeries()), { top: 1 })
  t.equal(cut.sites.length, 1)
  t.equal(cut.growingCount, 2)
})

t.test('one profile: live bytes by site since sampling began, and what it cannot tell', async (t) => {
  const [file] = writeProfiles(t.testdir(), [leakSeries()[2]!])
  const report = await findGrowingSites([file!])
  t.same(report.sites.map((s) => s.functionName), ['Session', 'makeGarbage', 'fillCache', 'leakHandler'], 'largest live first')
  t.match(report.sites[0]?.route, { route: 'POST /leak', requests: 2100, bytesPerRequest: 91 }, 'per request since the start')
  t.match(report.notes[0], /^One profile: live bytes by allocation site since sampling began \(2026-01-01T00:00:00\.000Z\).*cannot tell growth/)
  t.match(formatGrowingSites(report), /Live bytes by allocation site/)
})

t.test('frames from source-mapped code show their source position, and the one that runs', async (t) => {
  const series = leakSeries().map((p) => ({ ...p, sources: { 'Session@30': ['file:///srv/src/session.ts', 12, 3] as [string, number, number] } }))
  const report = await findGrowingSites(writeProfiles(t.testdir(), series))
  t.same(report.sites[0]?.source, { url: 'file:///srv/src/session.ts', line: 12, column: 3 })
  t.equal(report.sites[1]?.source, undefined, 'a frame without a source map keeps its position only')
  t.match(formatGrowingSites(report), /1\. Session \(file:\/\/\/srv\/src\/session\.ts:12:3; runs as file:\/\/\/srv\/app\.js:30:5\)/)
})

t.test('profiles that cannot be compared say why', async (t) => {
  const dir = t.testdir()
  const other = leakSeries()
  other[1]!.since = '2026-01-01T00:05:00.000Z'
  await t.rejects(findGrowingSites(writeProfiles(dir, other)), { code: 'FST_MEMDIAG_HEAP_PROFILE_FORMAT', message: /sampling started at 2026-01-01T00:05:00\.000Z.*one sampling run/ })
  const pids = leakSeries()
  pids[2]!.pid = 7
  await t.rejects(findGrowingSites(writeProfiles(t.testdir(), pids)), { message: /from process 7, .* from 4242/ })
  const swapped = leakSeries().reverse()
  await t.rejects(findGrowingSites(writeProfiles(t.testdir(), swapped)), { message: /was taken before/ })
  const bare = leakSeries().map((p) => ({ ...p, metadata: false }))
  const report = await findGrowingSites(writeProfiles(t.testdir(), bare))
  t.equal(report.sites[0]?.functionName, 'Session')
  t.equal(report.sites[0]?.route, null, 'no handler locations, no route')
  t.match(report.notes[0], /carry no plugin metadata/)
  const broken = join(dir, 'broken.heapprofile')
  await writeFile(broken, '{"head": 3}')
  await t.rejects(findGrowingSites([broken]), { message: /not a V8 sampling heap profile/ })
  t.ok(errorCodes.FST_MEMDIAG_HEAP_PROFILE_FORMAT !== undefined)
  await writeFile(broken, '{"head": {"callF')
  await t.rejects(findGrowingSites([broken]), { message: /not a readable heap profile/ })
  await t.rejects(findGrowingSites([]), TypeError)
  await t.rejects(findGrowingSites([broken], { top: 0 }), { message: /`top` must be an integer >= 1/ })
})

t.test('files are told apart by content, plain or gzipped, whatever their names', async (t) => {
  const dir = t.testdir()
  const [profile] = writeProfiles(dir, [leakSeries()[0]!])
  const [gzipped] = writeProfiles(dir, [leakSeries()[0]!], { gzip: true })
  const snapshot = join(dir, 'named.heapprofile')
  await writeFile(snapshot, snapshotText(rootedGraph([{ type: 'object', name: 'Kept', id: 5, size: 24 }])))
  const other = join(dir, 'other.json')
  await writeFile(other, '{"traceEvents": []}')
  t.equal(await fileKind(profile!), 'heap-profile')
  t.equal(await fileKind(gzipped!), 'heap-profile')
  t.equal(await fileKind(snapshot), 'heap-snapshot', 'a snapshot under a profile\'s name')
  t.equal(await fileKind(await gzipFile(snapshot, join(dir, 'snapshot.gz'))), 'heap-snapshot')
  t.equal(await fileKind(other), null)
})

t.test('the CLI: find-leaks on profiles (one or more), JSON, and mixed or unknown files refused', async (t) => {
  const dir = t.testdir()
  const files = writeProfiles(dir, leakSeries(), { gzip: true })
  const text = await run(['find-leaks', ...files])
  t.equal(text.code, 0, text.stderr)
  t.match(text.stdout, /Allocation sites whose live bytes grew in every interval \(2\)/)
  const json = await run(['find-leaks', ...files, '--json', '--top', '1'])
  const report = JSON.parse(json.stdout) as GrowingSitesReport
  t.equal(report.sites.length, 1)
  t.equal(report.sites[0]?.route?.route, 'POST /leak')
  const one = await run(['find-leaks', files[0]!])
  t.equal(one.code, 0)
  t.match(one.stdout, /One profile/)
  const snapshot = join(dir, 'a.heapsnapshot')
  await writeFile(snapshot, snapshotText(rootedGraph([{ type: 'object', name: 'Kept', id: 5, size: 24 }])))
  const mixed = await run(['find-leaks', files[0]!, snapshot])
  t.equal(mixed.code, 2, 'profiles beside one snapshot: a usage error')
  t.match(mixed.stderr, /find-leaks needs two snapshot files or more beside heap profiles \(the profiles then tell where the candidates were allocated\); got one snapshot/)
  const later = join(dir, 'b.heapsnapshot')
  await writeFile(later, snapshotText(rootedGraph([{ type: 'object', name: 'Kept', id: 5, size: 24 }, { type: 'object', name: 'Kept', id: 7, size: 24 }])))
  const both = await run(['find-leaks', files[0]!, snapshot, files[1]!, later, files[2]!, '--json'])
  t.equal(both.code, 0, both.stderr)
  const leaks = JSON.parse(both.stdout) as { snapshots: Array<{ file: string }>, candidates: Array<{ className: string }> }
  t.same(leaks.snapshots.map((s) => s.file), [snapshot, later], 'the snapshots\' report, the profiles taken beside them')
  t.same(leaks.candidates.map((c) => c.className), ['Kept'])
  const min = await run(['find-leaks', ...files, '--min', '2'])
  t.equal(min.code, 2, '--min on profiles: bad usage')
  t.match(min.stderr, /--min counts snapshot objects/)
  const unknown = join(dir, 'notes.txt')
  await writeFile(unknown, 'hello')
  const neither = await run(['find-leaks', unknown, files[0]!])
  t.equal(neither.code, 2, 'neither a snapshot nor a profile')
  t.match(neither.stderr, /notes\.txt is neither a V8 heap snapshot nor a sampling heap profile/)
  const cut = join(dir, 'cut.heapprofile')
  const [whole] = writeProfiles(dir, [leakSeries()[1]!])
  await writeFile(cut, (await readFile(whole!, 'utf8')).slice(0, 300))
  const truncated = await run(['find-leaks', files[0]!, cut])
  t.equal(truncated.code, 2, 'a cut profile')
  t.match(truncated.stderr, /^fastify-memory-diagnostics find-leaks: .*cut\.heapprofile: not a readable heap profile/)
  const lone = await run(['find-leaks', snapshot])
  t.equal(lone.code, 2, 'one snapshot is still a usage error')
  t.match(lone.stderr, /^find-leaks needs two snapshot files or more/)
})
