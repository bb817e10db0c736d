// Prints, second by second, the verdict and its reason for one recorded series:
//   node --import tsx bench/memory-series/explain.ts <name|file.json> [--every 5]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { replay, SERIES_DIR } from './replay.js'
import type { MemorySeries } from './replay.js'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { every: { type: 'string', default: '1' } } })
const name = positionals[0]
if (name === undefined) throw new Error('usage: explain.ts <series name or file> [--every N]')
const file = name.endsWith('.json') ? name : `${SERIES_DIR}${name}.json`
const series = JSON.parse(readFileSync(file, 'utf8')) as MemorySeries
const every = Number(values.every)
const steps = replay(series, { windowMs: 60_000 }, 1000)
steps.forEach(({ tMs, report }, i) => {
  if (i % every !== 0 && report.verdict === steps[i - 1]?.report.verdict) return
  console.log(`${Math.round((tMs - series.loadStartedAtMs) / 1000)} s ${report.verdict}: ${report.reason}`)
})
