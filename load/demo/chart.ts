// memory.svg: heapUsed and RSS over time, with the demo's phases shaded, the plugin's leak verdict
// as a band under the plot, and each heap snapshot marked (when, how long it blocked the event
// loop, the RSS it left behind) so that a reader tells the leak from the snapshots. Plain SVG.
export interface ChartSample {
  /** Seconds since the demo started. */
  t: number
  heapUsed: number
  rss: number
  /** The plugin's trend verdict at that moment, if read. */
  verdict?: string | null
}

export interface SnapshotMark {
  label: string
  /** Seconds since the demo started, when the snapshot was asked for. */
  t: number
  /** How long the snapshot blocked the event loop, if known. */
  blockedMs: number | null
  /** RSS after the snapshot minus RSS before it, if known. */
  rssLeftBytes: number | null
}

const VERDICT_COLOURS: Record<string, string> = {
  steady: '#2f9e44',
  'growing-heap': '#e03131',
  'growing-native': '#f08c00',
  'insufficient-data': '#adb5bd'
}
const BAND_HEIGHT = 10

export interface ChartPhase {
  name: string
  start: number
  end: number
}

const WIDTH = 900
const HEIGHT = 460
const MARGIN = { top: 40, right: 30, bottom: 90, left: 70 }
const PHASE_COLOURS = ['#eef2f7', '#e6f4ea', '#fde8e8', '#fff4e0', '#ede7f6']
const MB = 1024 * 1024

function niceStep (range: number, ticks: number): number {
  const rough = range / ticks
  const power = 10 ** Math.floor(Math.log10(rough))
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough) ?? power * 10
}

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function renderMemoryChart (samples: ChartSample[], phases: ChartPhase[], title: string, snapshots: SnapshotMark[] = []): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom
  const tMax = Math.max(1, ...samples.map((s) => s.t), ...phases.map((p) => p.end))
  const yMaxMb = Math.max(1, ...samples.map((s) => Math.max(s.heapUsed, s.rss) / MB)) * 1.1
  const x = (t: number) => MARGIN.left + (t / tMax) * plotWidth
  const y = (mb: number) => MARGIN.top + plotHeight - (mb / yMaxMb) * plotHeight
  const line = (pick: (s: ChartSample) => number) =>
    samples.map((s) => `${x(s.t).toFixed(1)},${y(pick(s) / MB).toFixed(1)}`).join(' ')

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`
  ]
  phases.forEach((phase, i) => {
    const left = x(phase.start)
    const width = Math.max(0, x(phase.end) - left)
    parts.push(`<rect x="${left.toFixed(1)}" y="${MARGIN.top}" width="${width.toFixed(1)}" height="${plotHeight}" fill="${PHASE_COLOURS[i % PHASE_COLOURS.length]}"/>`)
    parts.push(`<text x="${(left + width / 2).toFixed(1)}" y="${MARGIN.top + 16}" text-anchor="middle" fill="#555">${escape(phase.name)}</text>`)
  })
  const yStep = niceStep(yMaxMb, 6)
  for (let mb = 0; mb <= yMaxMb; mb += yStep) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(mb).toFixed(1)}" y2="${y(mb).toFixed(1)}" stroke="#ddd"/>`)
    parts.push(`<text x="${MARGIN.left - 8}" y="${(y(mb) + 4).toFixed(1)}" text-anchor="end">${mb} MB</text>`)
  }
  const tStep = niceStep(tMax, 10)
  for (let t = 0; t <= tMax; t += tStep) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 18}" text-anchor="middle">${t} s</text>`)
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`)
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${y(0)}" stroke="#333"/>`)
  parts.push(`<polyline fill="none" stroke="#d9480f" stroke-width="2" points="${line((s) => s.rss)}"/>`)
  parts.push(`<polyline fill="none" stroke="#1c7ed6" stroke-width="2" points="${line((s) => s.heapUsed)}"/>`)
  parts.push(...verdictBand(samples, x, y(0) + 26))
  for (const mark of snapshots) parts.push(...snapshotMark(mark, x(mark.t), MARGIN.top, y(0)))
  const legendY = HEIGHT - 14
  parts.push(`<rect x="${MARGIN.left}" y="${legendY - 9}" width="14" height="4" fill="#1c7ed6"/><text x="${MARGIN.left + 20}" y="${legendY - 3}">heapUsed</text>`)
  parts.push(`<rect x="${MARGIN.left + 110}" y="${legendY - 9}" width="14" height="4" fill="#d9480f"/><text x="${MARGIN.left + 130}" y="${legendY - 3}">RSS</text>`)
  parts.push(`<line x1="${MARGIN.left + 190}" x2="${MARGIN.left + 204}" y1="${legendY - 7}" y2="${legendY - 7}" stroke="#5f3dc4" stroke-dasharray="4 3" stroke-width="2"/><text x="${MARGIN.left + 210}" y="${legendY - 3}">heap snapshot (event loop blocked, RSS left behind)</text>`)
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

/** The verdict the plugin gave at each sample, as coloured runs, with a label per run long enough to hold one. */
function verdictBand (samples: ChartSample[], x: (t: number) => number, top: number): string[] {
  const parts = [`<text x="${MARGIN.left - 8}" y="${top + BAND_HEIGHT - 1}" text-anchor="end" fill="#555">verdict</text>`]
  const runs: Array<{ verdict: string, from: number, to: number }> = []
  for (const sample of samples) {
    const verdict = sample.verdict ?? 'insufficient-data'
    const last = runs.at(-1)
    if (last !== undefined && last.verdict === verdict) last.to = sample.t
    else runs.push({ verdict, from: last?.to ?? sample.t, to: sample.t })
  }
  for (const run of runs) {
    const left = x(run.from)
    const width = Math.max(1, x(run.to) - left)
    parts.push(`<rect x="${left.toFixed(1)}" y="${top}" width="${width.toFixed(1)}" height="${BAND_HEIGHT}" fill="${VERDICT_COLOURS[run.verdict] ?? '#868e96'}"><title>${escape(run.verdict)} ${run.from.toFixed(0)}–${run.to.toFixed(0)} s</title></rect>`)
    if (width > 70) parts.push(`<text x="${(left + width / 2).toFixed(1)}" y="${top + BAND_HEIGHT + 12}" text-anchor="middle" font-size="10" fill="${VERDICT_COLOURS[run.verdict] ?? '#868e96'}">${escape(run.verdict)}</text>`)
  }
  return parts
}

function snapshotMark (mark: SnapshotMark, at: number, top: number, bottom: number): string[] {
  const details = [
    mark.blockedMs === null ? null : `blocked ${(mark.blockedMs / 1000).toFixed(1)} s`,
    mark.rssLeftBytes === null ? null : `RSS +${(mark.rssLeftBytes / MB).toFixed(0)} MB`
  ].filter((part) => part !== null).join(', ')
  return [
    `<line x1="${at.toFixed(1)}" x2="${at.toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#5f3dc4" stroke-dasharray="4 3" stroke-width="1.5"/>`,
    `<text x="${(at + 4).toFixed(1)}" y="${top + 32}" fill="#5f3dc4" font-size="11">snapshot ${escape(mark.label)}</text>`,
    details === '' ? '' : `<text x="${(at + 4).toFixed(1)}" y="${top + 45}" fill="#5f3dc4" font-size="10">${escape(details)}</text>`
  ]
}
