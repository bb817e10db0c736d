import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { renderChart, renderJsonReport, renderMarkdownReport, renderTerminalReport, writeReportFiles } from '../../../load/demo/report.js'
import type { DemoResult } from '../../../load/demo/report.js'

// Recorded from a short run of the demo (its result object, candidates and samples trimmed).
const recorded = async (): Promise<DemoResult> => JSON.parse(await readFile(new URL('../../fixtures/demo-result.json', import.meta.url), 'utf8'))

function headingsOf (markdown: string): string[] {
  return markdown.split('\n').filter((line) => line.startsWith('#'))
}

t.test('the terminal report: phase table, both finder reports, the culprit\'s path, the plugin\'s verdict, the verdict last', async (t) => {
  const result = await recorded()
  const text = renderTerminalReport(result)
  t.match(text, /^\nphase {4}endpoint {13}requests {2}req\/s {2}heapUsed start → end/)
  t.match(text, /\nfixed {4}POST \/posts {10}2200 {6}275 /)
  t.match(text, /\nfind-leaks A B C \(POST \/posts\), first 3 candidates:\nSnapshot 1: 284,183 nodes/)
  t.match(text, /\nfind-leaks C D E \(POST \/leaking-posts\), first 3 candidates:\n[^]*\n1\. NativeConnection: 400 alive/)
  t.notMatch(text, /\n4\. /, 'three candidates per report, not all of them')
  t.match(text, /\nRetainer path of the culprit:\n {2}\(GC roots\) → .* → Mongoose\.connections → Array\[25\] → NativeConnection\n\n/)
  t.match(text, /\nThe plugin's own trend verdict \(GET \/memory\) at the end: insufficient-data: /)
  t.equal(text.split('\n').at(-1), result.verdict)
})

t.test('the terminal report: the heap profiles\' comparison and what it names, beside the snapshots\' finder', async (t) => {
  const result = await recorded()
  const text = renderTerminalReport(result)
  t.match(text, /\nfind-leaks C\.heapprofile D\.heapprofile E\.heapprofile \(the sampling heap profile over the same interval\), first 2 sites and 3 app calls:\nProfile 1: /)
  t.match(text, /\n1\. postModel \(file:\/\/\/app\/demo-app\/tenants\/leaking-tenant-connections\.ts:22:5; runs as [^)]+\) → createConnection \(\/app\/node_modules\/mongoose\/lib\/mongoose\.js:409:64\)\n/)
  t.notMatch(text, /\n3\. [^\n]*\n {3}live: [^\n]*\n {3}stack:/, 'two sites with their stacks, not all of them')
  t.match(text, /\nHeap profile \(C D E\): POST \/leaking-posts grows 22\.1 kB of live heap per request allocated under postModel \([^)]*demo-app\/tenants\/leaking-tenant-connections\.ts:22\) → createConnection \([^)]*node_modules\/mongoose\/lib\/mongoose\.js:409\), the first growing app call\.\n/)
})

t.test('the profile\'s verdict line without a growing app call under the leaking route', async (t) => {
  const result = { ...await recorded(), profileCulprit: null }
  t.match(renderTerminalReport(result), /\nHeap profile: no allocation by the app's own code grew in every interval under POST \/leaking-posts\.\n/)
})

t.test('without a culprit or a final verdict, those lines are left out', async (t) => {
  const result = { ...await recorded(), culprit: null, final: null }
  const text = renderTerminalReport(result)
  t.notMatch(text, /Retainer path of the culprit/)
  t.notMatch(text, /at the end:/)
  t.match(renderMarkdownReport(result), /## Culprit\n\nNo leak candidate above the noise for the leaking requests\.\n$/)
})

t.test('report.md: its sections in order, the verdict in bold, every snapshot with what it cost', async (t) => {
  const result = await recorded()
  const markdown = renderMarkdownReport(result)
  t.same(headingsOf(markdown), [
    '# Leak reproduction report',
    '## Phases',
    '## The plugin\'s leak verdict (`GET /memory`, 60 s window)',
    '## Heap snapshots (marked on the chart)',
    '## find-leaks A B C (POST /posts), first 3 candidates',
    '## find-leaks C D E (POST /leaking-posts), first 3 candidates',
    '## find-leaks C D E over the heap profiles (POST /leaking-posts)',
    '## Culprit'
  ])
  t.match(markdown, `\n**${result.verdict}**\n\n![heapUsed and RSS over time](memory.svg)\n`)
  t.match(markdown, /\n\| fixed \| POST \/posts \| 2200 \| 275 \|/)
  t.match(markdown, `Memory figures read ${result.samples.length} times`)
  t.match(markdown, /\n- after the fixed phase \(POST \/posts\): `insufficient-data`: 12 heap samples/)
  t.match(markdown, /\n- at the end of the run: `insufficient-data`\n/)
  t.match(markdown, /\n\| A \| 10 s \| 4\.7 s \| 100\.5 MB \|\n\| B \| 21 s \| 4\.1 s \| -8\.1 MB \|/)
  t.match(markdown, /\n`NativeConnection`: 200 then 200 new objects still alive per interval, 1\.00 per `POST \/leaking-posts`, held by Array `Mongoose\.connections → Array`\./)
  t.match(markdown, /useDb\(tenant, \{ useCache: true \}\)/)
})

t.test('the time to the limit is given while the plugin says growing', async (t) => {
  const result = await recorded()
  result.leaking.last = { ...result.leaking.last, verdict: 'growing-heap', timeToLimitSeconds: 5400, timeToLimit: 'heap' }
  t.match(renderMarkdownReport(result), /\n- after the leaking phase \(POST \/leaking-posts\): `growing-heap`, 1\.5 h to the heap limit at this rate: /)
})

t.test('report.json, memory.svg and report.md are written into the output folder', async (t) => {
  const result = await recorded()
  const out = t.testdir()
  const files = await writeReportFiles(out, result)
  t.same(files, { markdown: join(out, 'report.md'), chart: join(out, 'memory.svg') })
  t.equal(await readFile(files.markdown, 'utf8'), renderMarkdownReport(result))
  t.equal(await readFile(files.chart, 'utf8'), renderChart(result))
  const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))
  t.same(Object.keys(json), ['verdict', 'culprit', 'profileCulprit', 'phases', 'fixedLeaks', 'fixedReport', 'leakingReport', 'profileReport', 'samples'])
  t.equal(json.profileCulprit.callee.functionName, 'createConnection')
  t.equal(json.profileReport.sites.length, 2)
  t.equal(json.leakingReport.candidates.length, 3)
  t.same(json, JSON.parse(renderJsonReport(result)))
  t.match(renderChart(result), />leaking \/leaking-posts</, 'the chart shades the three phases')
})
