// Replays the recorded memory series (test/fixtures/memory-series/) through the trend verdict and
// prints, per series, the verdict over time, the delay to the first right growing-* and the wrong
// ones, then a confusion table over every assessment.
// Run: node --import tsx bench/verdict-backtest.ts [--window 60] [--interval 1]
import { parseArgs } from 'node:util'
import { TREND_VERDICTS } from '../plugin/types/trend.js'
import { confusion, loadAllSeries, replay, score } from './memory-series/replay.js'

const { values } = parseArgs({ options: { window: { type: 'string', default: '60' }, interval: { type: 'string', default: '1' } } })
const windowMs = Number(values.window) * 1000
const intervalMs = Number(values.interval) * 1000

console.log(`trend window ${windowMs / 1000} s, a sample every ${intervalMs / 1000} s\n`)
for (const series of loadAllSeries()) {
  const steps = replay(series, { windowMs }, intervalMs)
  const result = score(series, steps)
  const delay = result.delayMs === null ? (series.expected === 'not-growing' ? '' : 'never') : `${(result.delayMs / 1000).toFixed(0)} s`
  console.log(`${series.name} (expected ${series.expected})${delay === '' ? '' : `: first ${series.expected} after ${delay}`}` +
    `, wrong growing-* ${result.falseGrowing}${series.expected === 'not-growing' ? '' : `, steady after the first ${result.steadyDuringLeak}`}, last ${result.final}`)
  console.log(`  ${result.runs}`)
}

console.log('\nassessments by expected class (rows) and verdict (columns), once judgeable:')
const header = ['expected \\ verdict', ...TREND_VERDICTS]
const rows = [...confusion(loadAllSeries(), windowMs, intervalMs)].map(([expected, row]) => [expected, ...TREND_VERDICTS.map((v) => String(row.get(v) ?? 0))])
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)))
for (const r of [header, ...rows]) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  '))
