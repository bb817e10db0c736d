// memory.svg: heapUsed and RSS over time, with the demo's phases shaded. Plain SVG, no library.
export interface ChartSample {
  /** Seconds since the demo started. */
  t: number
  heapUsed: number
  rss: number
}

export interface ChartPhase {
  name: string
  start: number
  end: number
}

const WIDTH = 900
const HEIGHT = 420
const MARGIN = { top: 40, right: 30, bottom: 50, left: 70 }
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

export function renderMemoryChart (samples: ChartSample[], phases: ChartPhase[], title: string): string {
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
  const legendY = HEIGHT - 14
  parts.push(`<rect x="${MARGIN.left}" y="${legendY - 9}" width="14" height="4" fill="#1c7ed6"/><text x="${MARGIN.left + 20}" y="${legendY - 3}">heapUsed</text>`)
  parts.push(`<rect x="${MARGIN.left + 110}" y="${legendY - 9}" width="14" height="4" fill="#d9480f"/><text x="${MARGIN.left + 130}" y="${legendY - 3}">RSS</text>`)
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
