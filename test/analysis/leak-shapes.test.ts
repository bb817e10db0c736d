import t from 'tap'
import type { Test } from 'tap'
import { findLeaks } from '../../analysis/find-leaks.js'
import { formatLeakReport } from '../../analysis/format-leaks.js'
import { AGENT_PACKAGE, generateService, judgeService, runService, serviceOf } from '../helpers/leak-shapes.js'
import type { LeakSpec, ShapeService } from '../helpers/leak-shapes.js'
import type { LeakCandidate } from '../../analysis/find-leaks.js'

// A sample of the generated leak shapes (bench/leak-shapes.ts runs hundreds): each service one to
// three leaks beside busy routes and non-leaks. LEAK_SHAPES_SEEDS=1,2,3 replays given seeds.
const SEEDS = (process.env['LEAK_SHAPES_SEEDS'] ?? '3,11,14,17,18,21').split(',').map(Number)

async function check (t: Test, service: ShapeService): Promise<void> {
  const files = await runService(service, t.testdir())
  const report = await findLeaks(files)
  const verdict = judgeService(service, report)
  const text = formatLeakReport(report)
  for (const { leak, rank, rightHolder, route, candidate } of verdict.leaks) {
    const what = `seed ${service.seed}, ${leak.className}: ${leak.holder}/${leak.collection}/${leak.update} made in ${leak.site} by ${leak.code}`
    t.ok(rank >= 1 && rank <= 2, `${what}: first or second (rank ${rank})`)
    t.ok(rightHolder, `${what}: the holder named (${candidate?.collection.kind} ${candidate?.collection.label}${candidate?.packageName === undefined ? '' : `, in ${candidate.packageName}`})`)
    t.not(route, 'wrong', `${what}: no false figure per request (${JSON.stringify(candidate?.perRoute)})`)
  }
  t.same(verdict.falseCandidates.map((c) => `${c.className} ${c.collection.label}`), [], `seed ${service.seed}: no candidate but the leaks`)
  if (t.passing() === false) t.comment(text)
}

t.test('generated leak shapes: each leak first or second, its holder named, no false figure, no false candidate', async (t) => {
  for (const seed of SEEDS) await t.test(`seed ${seed}`, async (t) => check(t, generateService(seed)))
})

// The four leaks that find-leaks missed while a plain diff showed them first (the finder issue),
// under traffic whose mix and length differ per round, so that the counts can tell a route, every
// request and the time apart (the warm-up round first). From round 1 to 2: POST /audits ×0.31, the
// other routes ×1.17, ×0.64 and ×1.33, all requests ×0.78 (×0.95 without /audits), the time ×2 or
// more (200 then 2,500 ms, plus a snapshot's length each, up to a second on a loaded machine: a CI
// run once measured ×1.14 with rounds of 250 and 700 ms, as many objects of a timer as of every request).
const TRAFFIC = {
  rounds: [
    { 'GET /busy': 150, 'GET /health': 100, 'POST /orders': 120, 'POST /audits': 80 },
    { 'GET /busy': 60, 'GET /health': 220, 'POST /orders': 150, 'POST /audits': 160 },
    { 'GET /busy': 70, 'GET /health': 140, 'POST /orders': 200, 'POST /audits': 50 }
  ],
  roundMs: [300, 200, 2500]
}
const withTraffic = (service: ShapeService, routes: readonly string[]): ShapeService => ({
  ...service,
  rounds: TRAFFIC.rounds.map((round) => Object.fromEntries(Object.entries(round).filter(([route]) => routes.includes(route)))),
  roundMs: TRAFFIC.roundMs
})
const BUSY = ['GET /busy', 'GET /health', 'POST /orders']
/** The service of one leak beside one non-leak under TRAFFIC, its routes limited to `routes`: the report's first candidate and its text. */
async function firstOf (t: Test, seed: number, leak: LeakSpec, nonLeak: ShapeService['nonLeaks'][number], routes: readonly string[]): Promise<{ first?: LeakCandidate, text: string }> {
  const report = await findLeaks(await runService(withTraffic(serviceOf(seed, [leak], [nonLeak]), routes), t.testdir()))
  const text = formatLeakReport(report)
  t.equal(report.candidates[0]?.className, leak.className, text)
  return { first: report.candidates[0], text }
}

const spec = (leak: Omit<LeakSpec, 'collection'> & { collection?: LeakSpec['collection'] }): LeakSpec => ({ collection: 'array', ...leak })

t.test('an immutable store on a route, beside busy routes: the store variable, replaced on each update, 1 per request of its route', async (t) => {
  const leak = spec({
    id: 'S',
    className: 'Audit',
    holder: 'module',
    update: 'spread',
    site: 'handler',
    code: 'app',
    route: 'POST /audits',
    holderName: 'store',
    custom: 'let store = { audits: [], updatedAt: 0 }\nfunction addS (x) { store = { ...store, audits: [...store.audits, x], updatedAt: x.i } }'
  })
  const { first, text } = await firstOf(t, 101, leak, { kind: 'full-cache', className: 'CachedPage' }, [...BUSY, 'POST /audits'])
  t.equal(first?.collection.label, 'variable store.audits')
  t.equal(first?.collection.replacedOnUpdate, true)
  t.match(text, /held by: Array {2}variable store\.audits \(replaced on each update\)/)
  t.match(text, /per request: 1\.00 per POST \/audits, 0 per GET \/busy, 0 per GET \/health, 0 per POST \/orders/)
})

t.test('a for-await consumer of a job queue keeping a receipt per job, no route: the suspended function, not driven by requests', async (t) => {
  const leak = spec({
    id: 'J',
    className: 'Receipt',
    holder: 'for-await-local',
    update: 'in-place',
    site: 'background',
    code: 'app',
    holderName: 'consumeJobs',
    custom: `const jobs = []
let wake = null
async function * nextJob () { for (;;) { while (jobs.length === 0) await new Promise((resolve) => { wake = resolve }); yield jobs.shift() } }
async function consumeJobs () {
  const receipts = []
  for await (const job of nextJob()) receipts.push(job)
}
consumeJobs()
function addJ (x) { jobs.push(x); if (wake !== null) { const w = wake; wake = null; w() } }`
  })
  const { first, text } = await firstOf(t, 102, leak, { kind: 'in-flight', className: 'Pending' }, BUSY)
  t.equal(first?.collection.localOf?.name, 'consumeJobs')
  t.match(text, /a local of consumeJobs\(\), suspended/)
  t.match(text, /per request: not driven by requests/)
})

t.test('a preloaded tracing agent re-filling its export queue on every failed flush: its class and package, any route', async (t) => {
  const leak = spec({
    id: 'A',
    className: 'Span',
    holder: 'class-field',
    update: 'replace-on-flush',
    site: 'preload',
    code: 'agent',
    holderName: 'SpanExporter',
    packageName: AGENT_PACKAGE,
    custom: `class SpanExporter {
  constructor () { this.pending = []; this.batch = [] }
  add (span) { this.batch.push(span); if (this.batch.length >= 10) this.flush() }
  // the collector is down: the batch goes back in front of what waits
  flush () { const batch = this.batch; this.batch = []; this.pending = batch.concat(this.pending) }
}
const exporter = new SpanExporter()
function addA (x) { exporter.add(x) }`
  })
  const { first, text } = await firstOf(t, 103, leak, { kind: 'garbage', className: 'Scratch' }, BUSY)
  t.equal(first?.collection.label, 'SpanExporter.pending')
  t.equal(first?.collection.replacedOnUpdate, true)
  t.equal(first?.packageName, AGENT_PACKAGE)
  t.match(text, /per request: ≈ 1\.00 per request, any route/)
})

t.test('a background log forwarder keeping each record in a local array: the suspended function, not driven by requests', async (t) => {
  const leak = spec({
    id: 'F',
    className: 'LogRecord',
    holder: 'async-local',
    update: 'in-place',
    site: 'background',
    code: 'app',
    holderName: 'forwardLogs',
    custom: `const outbox = []
async function forwardLogs () {
  const forwarded = []
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 3))
    while (outbox.length > 0) forwarded.push(outbox.shift())
  }
}
forwardLogs()
function addF (x) { outbox.push(x) }`
  })
  const { first, text } = await firstOf(t, 104, leak, { kind: 'rescheduled-timer', className: 'Tick' }, BUSY)
  t.equal(first?.collection.localOf?.name, 'forwardLogs')
  t.match(text, /per request: not driven by requests/)
})
