import type { CaptureRecord } from '../capture/policy.js'
import { formatBytes } from '../format-bytes.js'
import type { VerdictChange } from '../trend/monitor.js'
import type { TrendReport } from '../types/trend.js'

export interface SummaryInput {
  readonly generatedAt: Date
  readonly pid: number
  readonly hostname: string
  readonly uptimeSeconds: number
  readonly versions: { readonly node: string, readonly plugin: string }
  readonly trend: TrendReport
  readonly history: readonly VerdictChange[]
  readonly captures: readonly CaptureRecord[]
  /** Names of the files inside the bundle (`files/...`), and those left out with why. */
  readonly included: readonly string[]
  readonly omitted: readonly string[]
  /** The find-leaks answer, when someone (the `report` command) could compute it. */
  readonly findLeaks?: string
}

/** The postmortem's Markdown: what happened when, the verdict, what was captured, what to run next. */
export function incidentSummary (input: SummaryInput): string {
  const { trend } = input
  const growthStarted = firstGrowth(input.history)
  const rate = trend.verdict === 'growing-native' ? trend.outsideHeap.slopeBytesPerMinute : trend.heap.slopeBytesPerMinute
  const lines = [
    `# Memory incident: pid ${input.pid} on ${input.hostname}`,
    '',
    `Generated ${input.generatedAt.toISOString()}, the process up ${Math.round(input.uptimeSeconds)} s; Node ${input.versions.node}, fastify-memory-diagnostics ${input.versions.plugin}.`,
    '',
    '## Verdict',
    '',
    `**${trend.verdict}**${trend.since === null ? '' : ` since ${trend.since}`}: ${trend.reason}`,
    '',
    '## Timeline',
    '',
    `- Growth started: ${growthStarted ?? 'no growing verdict in the recorded history'}`,
    `- Rate: ${rate === null ? 'unknown' : `${formatBytes(rate)}/min (${trend.verdict === 'growing-native' ? 'memory outside the heap' : 'heap floor'})`}`,
    `- Time to the limit: ${trend.timeToLimit === null ? 'none at this rate (not growing, or no limit)' : `${Math.round(trend.timeToLimit.seconds / 60)} min to the ${trend.timeToLimit.limit} limit (${formatBytes(trend.timeToLimit.bytesLeft)} left)`}`,
    ...input.history.map((change) => `- ${change.at} verdict ${change.verdict}: ${change.reason}`),
    ...input.captures.map((c) => `- ${new Date(c.at).toISOString()} captured a ${c.kind} (${c.id}) because ${c.reason}`),
    '',
    '## Evidence',
    ''
  ]
  if (input.captures.length === 0) lines.push('Nothing was captured (capture off, or the verdict never turned).')
  if (input.included.length > 0) lines.push('In this bundle:', ...input.included.map((name) => `- ${name}`))
  if (input.omitted.length > 0) lines.push('Left out:', ...input.omitted.map((name) => `- ${name}`))
  lines.push('', '## Leak candidates', '')
  if (input.findLeaks !== undefined) {
    lines.push('```', input.findLeaks.trimEnd(), '```')
  } else if (input.included.length >= 2) {
    lines.push('Run `npx fastify-memory-diagnostics report <this bundle>` for the find-leaks answer on the files inside.')
  } else {
    lines.push('Not enough snapshots or profiles in the bundle for find-leaks (two or more of one process; ask with `?files=true`).')
  }
  return lines.join('\n') + '\n'
}

function firstGrowth (history: readonly VerdictChange[]): string | null {
  const first = history.find((change) => change.verdict === 'growing-heap' || change.verdict === 'growing-native')
  return first === undefined ? null : `${first.at} (${first.verdict})`
}
