import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatGrowingSites, formatLeakReport } from '../../analysis/index.js'
import type { AppCallSite, GrowingSitesReport, LeakCandidate, LeakReport } from '../../analysis/index.js'
import { renderMemoryChart } from './chart.js'
import type { SnapshotMark } from './chart.js'
import { mb, phaseTable, renderMarkdownTable, renderTextTable } from './phases.js'
import type { PhaseResult } from './phases.js'
import { timeToLimitText } from './plugin-verdict.js'
import { profileVerdictLine } from './profile-verdict.js'
import type { Sample } from './sampler.js'
import { perRequestOf } from './verdict.js'

/** What one run of the demo found: everything its report shows. */
export interface DemoResult {
  fixed: PhaseResult
  leaking: PhaseResult
  /** find-leaks over A B C (the fixed phase) and C D E (the leaking one). */
  fixedReport: LeakReport
  leakingReport: LeakReport
  /** find-leaks over the heap profiles read with C, D and E (sampling started at C). */
  profileReport: GrowingSitesReport
  /** Its first growing call from the app's own code under the leaking endpoint. */
  profileCulprit: AppCallSite | null
  fixedLeaks: LeakCandidate[]
  culprit: LeakCandidate | null
  verdict: string
  samples: Sample[]
  /** The last sample, taken after the last snapshot. */
  final: Sample | null
  snapshotMarks: SnapshotMark[]
}

const TOP = 3

const PROFILE_SITES = 2

/** The profile comparison with its first sites and app calls, for display. */
function topSitesOf (report: GrowingSitesReport): GrowingSitesReport {
  return { ...report, sites: report.sites.slice(0, PROFILE_SITES), appCalls: report.appCalls.slice(0, TOP) }
}

/** The report with only its first candidates, for display. */
function topOf (report: LeakReport): LeakReport {
  return { ...report, candidates: report.candidates.slice(0, TOP) }
}

function pathText (candidate: LeakCandidate): string {
  return candidate.retainerPath.map((step) => step.label + step.edge).join(' → ')
}

function hasFinalVerdict (final: Sample | null): final is Sample & { verdict: string } {
  return final !== null && final.verdict !== null
}

/** What the demo prints at its end. */
export function renderTerminalReport (result: DemoResult): string {
  const { fixed, leaking, culprit, final } = result
  return [
    `\n${renderTextTable(phaseTable([fixed, leaking]))}\n`,
    `find-leaks A B C (${fixed.endpoint}), first ${TOP} candidates:\n${formatLeakReport(topOf(result.fixedReport))}`,
    `find-leaks C D E (${leaking.endpoint}), first ${TOP} candidates:\n${formatLeakReport(topOf(result.leakingReport))}`,
    ...(culprit === null ? [] : [`Retainer path of the culprit:\n  ${pathText(culprit)}\n`]),
    `find-leaks C.heapprofile D.heapprofile E.heapprofile (the sampling heap profile over the same interval), first ${PROFILE_SITES} sites and ${TOP} app calls:\n${formatGrowingSites(topSitesOf(result.profileReport))}`,
    profileVerdictLine(result.profileCulprit, leaking.endpoint),
    ...(hasFinalVerdict(final) ? [`The plugin's own trend verdict (GET /memory) at the end: ${final.verdict}: ${final.verdictReason}`] : []),
    result.verdict
  ].join('\n')
}

/** report.md: the verdict, the chart, and the evidence behind them. */
export function renderMarkdownReport (result: DemoResult): string {
  const { fixed, leaking, culprit, final } = result
  const phases = [fixed, leaking]
  return [
    '# Leak reproduction report',
    '',
    `**${result.verdict}**`,
    '',
    '![heapUsed and RSS over time](memory.svg)',
    '',
    '## Phases',
    '',
    renderMarkdownTable(phaseTable(phases)),
    '',
    `Memory figures read ${result.samples.length} times through \`GET /_diagnostics/memory\` and \`/gc-stats\`; snapshots taken through \`POST /_diagnostics/heap-snapshot?download=true\`.`,
    '',
    '## The plugin\'s leak verdict (`GET /memory`, 60 s window)',
    '',
    ...phases.map((phase) => `- after the ${phase.name} phase (${phase.endpoint}): \`${phase.last.verdict ?? 'not read'}\`${timeToLimitText(phase.last)}: ${phase.last.verdictReason ?? ''}`),
    hasFinalVerdict(final) ? `- at the end of the run: \`${final.verdict}\`` : '',
    '',
    '## Heap snapshots (marked on the chart)',
    '',
    '| snapshot | taken at | event loop blocked | RSS left behind |',
    '| --- | --- | --- | --- |',
    ...result.snapshotMarks.map((mark) => `| ${mark.label} | ${mark.t.toFixed(0)} s | ${mark.blockedMs === null ? '?' : `${(mark.blockedMs / 1000).toFixed(1)} s`} | ${mark.rssLeftBytes === null ? '?' : mb(mark.rssLeftBytes)} |`),
    '',
    `## find-leaks A B C (${fixed.endpoint}), first ${TOP} candidates`,
    '',
    '```',
    formatLeakReport(topOf(result.fixedReport)),
    '```',
    '',
    `## find-leaks C D E (${leaking.endpoint}), first ${TOP} candidates`,
    '',
    '```',
    formatLeakReport(topOf(result.leakingReport)),
    '```',
    '',
    `## find-leaks C D E over the heap profiles (${leaking.endpoint})`,
    '',
    'The sampling heap profile (`POST /_diagnostics/heap-profile?intervalBytes=32768` before snapshot C, `GET /_diagnostics/heap-profile` after C, D and E): what a snapshot refused by the guard would leave you with.',
    '',
    `**${profileVerdictLine(result.profileCulprit, leaking.endpoint)}**`,
    '',
    '```',
    formatGrowingSites(topSitesOf(result.profileReport)),
    '```',
    '',
    '## Culprit',
    '',
    culprit === null ? 'No leak candidate above the noise for the leaking requests.' : culpritSection(culprit, leaking),
    ''
  ].join('\n')
}

function culpritSection (culprit: LeakCandidate, leaking: PhaseResult): string {
  return [
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
  ].join('\n')
}

/** report.json: the verdict and its figures, for a script. */
export function renderJsonReport (result: DemoResult): string {
  const { verdict, culprit, profileCulprit, fixed, leaking, fixedLeaks, samples } = result
  return JSON.stringify({
    verdict,
    culprit,
    profileCulprit,
    phases: [fixed, leaking],
    fixedLeaks,
    fixedReport: topOf(result.fixedReport),
    leakingReport: topOf(result.leakingReport),
    profileReport: topSitesOf(result.profileReport),
    samples
  }, null, 2)
}

/** memory.svg: the samples over the three phases, each snapshot marked. */
export function renderChart (result: DemoResult): string {
  const { fixed, leaking } = result
  const phases = [{ name: 'warm-up', start: 0, end: fixed.start }, { name: 'fixed /posts', start: fixed.start, end: fixed.end }, { name: 'leaking /leaking-posts', start: leaking.start, end: leaking.end }]
  return renderMemoryChart(result.samples, phases, 'Demo app memory: fixed endpoint, then leaking endpoint', result.snapshotMarks)
}

/** Writes memory.svg, report.md and report.json into `outDir`; returns the paths to show. */
export async function writeReportFiles (outDir: string, result: DemoResult): Promise<{ markdown: string, chart: string }> {
  const chart = join(outDir, 'memory.svg')
  const markdown = join(outDir, 'report.md')
  await writeFile(chart, renderChart(result))
  await writeFile(markdown, renderMarkdownReport(result))
  await writeFile(join(outDir, 'report.json'), renderJsonReport(result))
  return { markdown, chart }
}
