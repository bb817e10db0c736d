import type { Sample } from './sampler.js'

export interface PhaseResult {
  name: string
  endpoint: string
  start: number
  end: number
  requests: number
  requestsPerSecond: number
  first: Sample
  last: Sample
}

const MB = 1024 * 1024

export function mb (bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`
}

function signedMb (bytes: number): string {
  return `${bytes >= 0 ? '+' : '−'}${mb(Math.abs(bytes))}`
}

export function growthPerThousand (phase: PhaseResult, pick: (s: Sample) => number): number {
  return phase.requests === 0 ? 0 : (pick(phase.last) - pick(phase.first)) / phase.requests * 1000
}

/** The per-phase table, as rows of cells (shared by the terminal and the Markdown report). */
export function phaseTable (phases: PhaseResult[]): string[][] {
  const header = ['phase', 'endpoint', 'requests', 'req/s', 'heapUsed start → end', 'RSS start → end', 'heap / 1,000 req', 'RSS / 1,000 req', 'Mongoose connections']
  return [header, ...phases.map((phase) => [
    phase.name,
    phase.endpoint,
    String(phase.requests),
    String(phase.requestsPerSecond),
    `${mb(phase.first.heapUsed)} → ${mb(phase.last.heapUsed)}`,
    `${mb(phase.first.rss)} → ${mb(phase.last.rss)}`,
    signedMb(growthPerThousand(phase, (s) => s.heapUsed)),
    signedMb(growthPerThousand(phase, (s) => s.rss)),
    `${phase.first.mongooseConnections} → ${phase.last.mongooseConnections}`
  ])]
}

export function renderTextTable (rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')
  return [line(rows[0]!), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

export function renderMarkdownTable (rows: string[][]): string {
  const line = (row: string[]) => `| ${row.join(' | ')} |`
  return [line(rows[0]!), line(rows[0]!.map(() => '---')), ...rows.slice(1).map(line)].join('\n')
}
