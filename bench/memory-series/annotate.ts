// Adds to a recorded series what its expectation needs beyond `expected` (run once after recording):
//   node --import tsx bench/memory-series/annotate.ts <name> leakStartsAtMs=<ms> notGrowingAfterMs=<ms>
import { readFileSync, writeFileSync } from 'node:fs'
import { SERIES_DIR } from './replay.js'

const [name, ...pairs] = process.argv.slice(2)
const file = `${SERIES_DIR}${name}.json`
const series = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
for (const pair of pairs) {
  const [key, value] = pair.split('=') as [string, string]
  series[key] = Number(value)
}
writeFileSync(file, JSON.stringify(series) + '\n')
