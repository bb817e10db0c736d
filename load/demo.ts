// npm run demo: reproduce the "new tenant connection on every request" leak and name the culprit
// with the library's leak finder (three snapshots per phase), with the plugin's trend verdict.
//   [--phase-seconds 30] [--fixed-seconds 2 × phase-seconds] [--warmup-seconds 5] [--connections 10] [--tenants 20] [--out demo-report]
import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { findLeaks, formatLeakReport } from '../analysis/index.js'
import type { LeakCandidate, LeakReport } from '../analysis/index.js'
import { drive } from './drive.js'
import type { TargetName } from './targets.js'
import { startAppProcess } from './demo/app-process.js'
import type { AppProcess } from './demo/app-process.js'
import { renderMemoryChart } from './demo/chart.js'
import type { SnapshotMark } from './demo/chart.js'
import { DiagnosticsClient } from './demo/diagnostics-client.js'
import { growthPerThousand, mb, phaseTable, renderMarkdownTable, renderTextTable } from './demo/phases.js'
import type { PhaseResult } from './demo/phases.js'
import { startSampling } from './demo/sampler.js'
import type { Sample } from './demo/sampler.js'
import { freePort } from './free-port.js'

const { values } = parseArgs({
  options: {
    // the leaking phase: longer, its connection per request runs this machine out of file descriptors
    'phase-seconds': { type: 'string', default: '30' },
    // one trend window (60 s in the demo app) by default, so that the verdict at its end covers the
    // fixed endpoint only, not the app's start-up
    'fixed-seconds': { type: 'string' },
    'warmup-seconds': { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    // each leaking request keeps database connections open: 4,500 of them in 30 s ran the demo app
    // out of file descriptors here (ulimit 20,000), hence fewer clients and a cap on the requests
    'leaking-connections': { type: 'string', default: '2' },
    'leaking-requests': { type: 'string', default: '3000' },
    tenants: { type: 'string', default: '20' },
    out: { type: 'string', default: 'demo-report' }
  }
})
const phaseSeconds = Number(values['phase-seconds'])
const fixedSeconds = values['fixed-seconds'] === undefined ? 2 * phaseSeconds : Number(values['fixed-seconds'])
const warmupSeconds = Number(values['warmup-seconds'])
const connections = Number(values.connections)
const leakingConnections = Number(values['leaking-connections'])
const leakingRequests = Number(values['leaking-requests'])
const tenants = Number(values.tenants)
const outDir = resolve(values.out)
const snapshotDir = join(outDir, 'snapshots')
const TOP = 3
// A leak candidate is above the noise when it kept at least one object per this many requests of
// the phase's route in every interval (in-flight requests and caches warming keep a handful).
const NOISE_REQUESTS_PER_OBJECT = 100

const startedAt = Date.now()
const elapsed = () => ((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)
const say = (line: string) => console.log(`[${elapsed()} s] ${line}`)

let app: AppProcess | null = null
let sampler: ReturnType<typeof startSampling> | null = null
let ticker: NodeJS.Timeout | null = null

async function cleanUp (): Promise<void> {
  if (ticker !== null) clearInterval(ticker)
  await sampler?.stop()
  await app?.stop()
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the demo app and its database`)
    cleanUp().finally(() => process.exit(130))
  })
}

let phase = 'start-up'

function showProgress (): void {
  const sample = sampler?.latest()
  if (sample === undefined) return
  const line = `[${elapsed()} s] ${phase.padEnd(8)} heapUsed ${mb(sample.heapUsed).padStart(9)}  RSS ${mb(sample.rss).padStart(9)}  Mongoose connections ${sample.mongooseConnections}`
  if (process.stdout.isTTY) process.stdout.write(`\r${line}\x1b[K`)
  else if (Math.round(sample.t) % 5 === 0) console.log(line)
}

function endProgressLine (): void {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K')
}

interface PhaseOptions {
  /** A snapshot taken halfway, the phase being driven in two halves around it. */
  midSnapshot?: string
  phaseConnections?: number
  maxRequests?: number
}

async function runPhase (name: string, target: TargetName, seconds: number, options: PhaseOptions = {}): Promise<PhaseResult & { midFile?: string }> {
  const { midSnapshot, phaseConnections = connections, maxRequests } = options
  phase = name
  const first = await sampler!.sampleNow()
  const start = (Date.now() - startedAt) / 1000
  const halves = midSnapshot === undefined ? [seconds] : [seconds / 2, seconds / 2]
  let requests = 0
  let requestsPerSecond = 0
  let failures = 0
  let midFile: string | undefined
  for (const [i, durationSeconds] of halves.entries()) {
    if (i > 0 && midSnapshot !== undefined) {
      midFile = await snapshot(midSnapshot)
      phase = name
    }
    const summary = await drive({
      target,
      url: app!.url,
      durationSeconds,
      connections: phaseConnections,
      ...(maxRequests === undefined ? {} : { maxRequests: Math.ceil(maxRequests / halves.length) }),
      tenants,
      render: false
    })
    requests += summary.requests
    failures += summary.failures
    requestsPerSecond += summary.requestsPerSecond / halves.length
  }
  const last = await sampler!.sampleNow()
  endProgressLine()
  if (first === undefined || last === undefined) throw new Error(`could not read /memory around the ${name} phase`)
  requestsPerSecond = Math.round(requestsPerSecond)
  say(`${name}: ${requests} requests to /${target} (${requestsPerSecond} req/s, ${failures} failed), heapUsed ${mb(first.heapUsed)} → ${mb(last.heapUsed)}`)
  say(`${name}: the plugin's verdict (GET /memory): ${pluginVerdict(last)}`)
  return { name, endpoint: `POST /${target}`, start, end: (Date.now() - startedAt) / 1000, requests, requestsPerSecond, first, last, ...(midFile === undefined ? {} : { midFile }) }
}

/** The trend verdict of a sample, with its time to the limit when growing. */
function pluginVerdict (sample: Sample): string {
  if (sample.verdict === null) return 'not read'
  const limit = sample.timeToLimitSeconds === null ? '' : `, ${formatDuration(sample.timeToLimitSeconds)} to the ${sample.timeToLimit} limit at this rate`
  return `${sample.verdict}${limit} (${sample.verdictReason ?? ''})`
}

function formatDuration (seconds: number): string {
  if (seconds >= 86_400) return `${(seconds / 86_400).toFixed(1)} days`
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 60).toFixed(0)} min`
}

const snapshotMarks: SnapshotMark[] = []

async function snapshot (label: string): Promise<string> {
  phase = `snap ${label}`
  const file = join(snapshotDir, `${label}.heapsnapshot.gz`)
  const started = Date.now()
  const client = new DiagnosticsClient(app!.url, token)
  const { bytes } = await client.snapshotTo(file)
  endProgressLine()
  // What the snapshot did to the process, from the plugin's own record of it (GET /memory).
  const memory = await client.memory().catch(() => null)
  const last = memory?.snapshot?.last ?? null
  const rssBefore = last?.rssBeforeBytes ?? null
  snapshotMarks.push({
    label,
    t: (started - startedAt) / 1000,
    blockedMs: last?.durationMs ?? null,
    rssLeftBytes: rssBefore === null || memory === null ? null : memory.process.rss - rssBefore
  })
  say(`snapshot ${label}: ${mb(bytes)} gzipped in ${((Date.now() - started) / 1000).toFixed(1)} s → ${file}`)
  return file
}

async function leaksOver (files: string[], label: string): Promise<LeakReport> {
  let lastShown = ''
  const report = await findLeaks(files, {
    onProgress: (progress) => {
      const shown = `${progress.index + 1}/${files.length} ${Math.floor(progress.bytesRead / Math.max(1, progress.totalBytes) * 100)}%`
      if (process.stdout.isTTY && shown !== lastShown) {
        lastShown = shown
        process.stdout.write(`\r[${elapsed()} s] find-leaks ${label}: reading snapshot ${shown}\x1b[K`)
      }
    }
  })
  endProgressLine()
  return report
}

/** The candidates that kept at least one object per NOISE_REQUESTS_PER_OBJECT requests of `endpoint` in every interval. */
function aboveNoise (report: LeakReport, endpoint: string): LeakCandidate[] {
  const requests = report.requestsPerInterval
  if (requests === undefined) return report.candidates
  return report.candidates.filter((c) => c.countPerInterval.every((n, i) => n > 0 && n >= (requests[i]?.[endpoint] ?? 0) / NOISE_REQUESTS_PER_OBJECT))
}

function perRequestOf (candidate: LeakCandidate, endpoint: string): number | null {
  return candidate.perRoute?.find((share) => share.route === endpoint)?.objectsPerRequest ?? null
}

function verdictLine (culprit: LeakCandidate | null, leaking: PhaseResult, fixed: PhaseResult, fixedLeaks: LeakCandidate[]): string {
  const fixedPart = fixedLeaks.length === 0
    ? `${fixed.endpoint} leaves no leak candidate above the noise (heap ${mb(growthPerThousand(fixed, (s) => s.heapUsed))} per 1,000 requests)`
    : `${fixed.endpoint} also keeps ${fixedLeaks.map((c) => c.className).join(', ')}`
  if (culprit === null) return `Verdict: no leak candidate above the noise for ${leaking.endpoint}; ${fixedPart}.`
  const perRequest = perRequestOf(culprit, leaking.endpoint)
  return `Verdict: ${leaking.endpoint} leaks ${perRequest === null ? '?' : perRequest.toFixed(2)} ${culprit.className} per request ` +
    `(+${culprit.countPerInterval.reduce((a, b) => a + b, 0)} still alive, heap ${mb(growthPerThousand(leaking, (s) => s.heapUsed))} per 1,000 requests), ` +
    `held by ${culprit.collection.kind} ${culprit.collection.label}; ${fixedPart}.`
}

function pathText (candidate: LeakCandidate): string {
  return candidate.retainerPath.map((step) => step.label + step.edge).join(' → ')
}

/** The report with only its first candidates, for display. */
function topOf (report: LeakReport): LeakReport {
  return { ...report, candidates: report.candidates.slice(0, TOP) }
}

const token = randomBytes(24).toString('base64url')

async function main (): Promise<void> {
  await rm(outDir, { recursive: true, force: true })
  await mkdir(snapshotDir, { recursive: true })
  say('starting the demo app (and its database) in child processes…')
  app = await startAppProcess(await freePort(), token)
  say(`demo app ready on ${app.url} (pid ${app.pid})`)
  const client = new DiagnosticsClient(app.url, token)
  sampler = startSampling(client, app.url, () => phase, startedAt)
  ticker = setInterval(showProgress, 1000)

  // Warm-up: every tenant's correct connection and model exist, and the leaking code path has run
  // once per tenant, so first-time allocations do not show up as growth in the comparisons.
  await runPhase('warm-up', 'posts', warmupSeconds)
  await drive({ target: 'leaking-posts', url: app.url, durationSeconds: 1, connections: 1, tenants, render: false })
  // The three-snapshot workflow, twice: A → B → C over the fixed endpoint, C → D → E over the
  // leaking one. The finder keeps what was allocated in every interval and is still alive in the
  // last snapshot, so a phase needs its own three snapshots.
  const a = await snapshot('A')
  const fixed = await runPhase('fixed', 'posts', fixedSeconds, { midSnapshot: 'B' })
  const c = await snapshot('C')
  const leaking = await runPhase('leaking', 'leaking-posts', phaseSeconds, { midSnapshot: 'D', phaseConnections: leakingConnections, maxRequests: leakingRequests })
  const e = await snapshot('E')
  phase = 'end'
  const final = await sampler.sampleNow()
  await cleanUp()
  app = null
  say('demo app stopped; looking for leaks across the snapshots…')

  const fixedReport = await leaksOver([a, fixed.midFile!, c], 'A→B→C')
  const leakingReport = await leaksOver([c, leaking.midFile!, e], 'C→D→E')
  const fixedLeaks = aboveNoise(fixedReport, fixed.endpoint)
  const culprit = aboveNoise(leakingReport, leaking.endpoint)[0] ?? null
  const phases = [fixed, leaking]
  const verdict = verdictLine(culprit, leaking, fixed, fixedLeaks)

  console.log(`\n${renderTextTable(phaseTable(phases))}\n`)
  console.log(`find-leaks A B C (${fixed.endpoint}), first ${TOP} candidates:\n${formatLeakReport(topOf(fixedReport))}`)
  console.log(`find-leaks C D E (${leaking.endpoint}), first ${TOP} candidates:\n${formatLeakReport(topOf(leakingReport))}`)
  if (culprit !== null) console.log(`Retainer path of the culprit:\n  ${pathText(culprit)}\n`)
  if (final?.verdict !== null && final?.verdict !== undefined) console.log(`The plugin's own trend verdict (GET /memory) at the end: ${final.verdict}: ${final.verdictReason}`)
  console.log(verdict)

  const samples = sampler.samples
  const chartPhases = [{ name: 'warm-up', start: 0, end: fixed.start }, { name: 'fixed /posts', start: fixed.start, end: fixed.end }, { name: 'leaking /leaking-posts', start: leaking.start, end: leaking.end }]
  await writeFile(join(outDir, 'memory.svg'), renderMemoryChart(samples, chartPhases, 'Demo app memory: fixed endpoint, then leaking endpoint', snapshotMarks))
  await writeFile(join(outDir, 'report.md'), report(phases, fixedReport, leakingReport, culprit, verdict, samples, final))
  await writeFile(join(outDir, 'report.json'), JSON.stringify({ verdict, culprit, phases, fixedLeaks, fixedReport: topOf(fixedReport), leakingReport: topOf(leakingReport), samples }, null, 2))
  say(`report written to ${join(outDir, 'report.md')} and ${join(outDir, 'memory.svg')}`)
}

function report (phases: PhaseResult[], fixedReport: LeakReport, leakingReport: LeakReport, culprit: LeakCandidate | null, verdict: string, samples: Sample[], final: Sample | undefined): string {
  const fixed = phases[0]!
  const leaking = phases[1]!
  return [
    '# Leak reproduction report',
    '',
    `**${verdict}**`,
    '',
    '![heapUsed and RSS over time](memory.svg)',
    '',
    '## Phases',
    '',
    renderMarkdownTable(phaseTable(phases)),
    '',
    `Memory figures read ${samples.length} times through \`GET /_diagnostics/memory\` and \`/gc-stats\`; snapshots taken through \`POST /_diagnostics/heap-snapshot?download=true\`.`,
    '',
    '## The plugin\'s leak verdict (`GET /memory`, 60 s window)',
    '',
    ...phases.map((phase) => `- after the ${phase.name} phase (${phase.endpoint}): \`${phase.last.verdict ?? 'not read'}\`${phase.last.timeToLimitSeconds === null ? '' : `, ${formatDuration(phase.last.timeToLimitSeconds)} to the ${phase.last.timeToLimit} limit at this rate`}: ${phase.last.verdictReason ?? ''}`),
    final?.verdict !== null && final?.verdict !== undefined ? `- at the end of the run: \`${final.verdict}\`` : '',
    '',
    '## Heap snapshots (marked on the chart)',
    '',
    '| snapshot | taken at | event loop blocked | RSS left behind |',
    '| --- | --- | --- | --- |',
    ...snapshotMarks.map((mark) => `| ${mark.label} | ${mark.t.toFixed(0)} s | ${mark.blockedMs === null ? '?' : `${(mark.blockedMs / 1000).toFixed(1)} s`} | ${mark.rssLeftBytes === null ? '?' : mb(mark.rssLeftBytes)} |`),
    '',
    `## find-leaks A B C (${fixed.endpoint}), first ${TOP} candidates`,
    '',
    '```',
    formatLeakReport(topOf(fixedReport)),
    '```',
    '',
    `## find-leaks C D E (${leaking.endpoint}), first ${TOP} candidates`,
    '',
    '```',
    formatLeakReport(topOf(leakingReport)),
    '```',
    '',
    '## Culprit',
    '',
    culprit === null
      ? 'No leak candidate above the noise for the leaking requests.'
      : [
          `\`${culprit.className}\`: ${culprit.countPerInterval.join(' then ')} new objects still alive per interval, ` +
            `${(perRequestOf(culprit, leaking.endpoint) ?? 0).toFixed(2)} per \`${leaking.endpoint}\`, held by ${culprit.collection.kind} \`${culprit.collection.label}\`.`,
          '',
          'Retainer path (shortest from the GC roots, weak edges skipped):',
          '',
          '```',
          pathText(culprit),
          '```',
          '',
          'The fix, as `POST /posts` does it: one base connection, `useDb(tenant, { useCache: true })`, and the model compiled once per tenant connection.'
        ].join('\n'),
    ''
  ].join('\n')
}

try {
  await main()
} catch (error) {
  endProgressLine()
  console.error(`demo failed: ${(error as Error).message}`)
  const running = app as AppProcess | null
  if (running !== null) console.error(`demo app output (last lines):\n${running.output().split('\n').slice(-20).join('\n')}`)
  await cleanUp()
  process.exitCode = 1
}
