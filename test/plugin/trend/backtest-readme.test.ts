// The README's table of the backtest is what the backtest gives today.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { confusion, loadAllSeries } from '../../../bench/memory-series/replay.js'
import type { Expectation } from '../../../bench/memory-series/replay.js'
import { TREND_VERDICTS } from '../../../plugin/types/trend.js'

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
const ROWS: Record<string, Expectation> = { 'heap leak': 'growing-heap', 'native leak': 'growing-native', 'not growing': 'not-growing' }

t.test('the README gives the backtest\'s confusion table and series count', async (t) => {
  const series = loadAllSeries()
  const table = confusion(series, 60_000, 1000)
  t.match(README, new RegExp(`Replayed over ${series.length}\\s+recorded series`), `${series.length} series`)
  const header = README.split('\n').find((line) => line.startsWith('| expected \\ verdict |'))
  t.equal(header, `| expected \\ verdict | ${TREND_VERDICTS.join(' | ')} |`, 'the columns are the verdicts, in their order')
  for (const [label, expected] of Object.entries(ROWS)) {
    const row = TREND_VERDICTS.map((verdict) => table.get(expected)?.get(verdict) ?? 0)
    t.ok(README.includes(`| ${label} | ${row.join(' | ')} |`), `${label}: ${row.join(' | ')}`)
  }
})
