// The verdict replayed over real memory series recorded from running services (see
// bench/memory-series/record.ts), with the demo's 60 s window and 1 s samples.
import t from 'tap'
import { loadAllSeries, replay, score } from '../../../bench/memory-series/replay.js'

const SERIES = loadAllSeries()

t.ok(SERIES.length >= 8, `${SERIES.length} recorded series`)
for (const expected of ['growing-heap', 'growing-native', 'not-growing']) {
  t.ok(SERIES.some((s) => s.expected === expected), `at least one series expected ${expected}`)
}

for (const series of SERIES) {
  t.test(`${series.name} (${series.expected}): ${series.description}`, async (t) => {
    const result = score(series, replay(series, { windowMs: 60_000 }, 1000))
    t.comment(result.runs)
    t.equal(result.falseGrowing, 0, 'no wrong growing-* verdict')
    if (series.expected === 'not-growing') {
      t.not(result.final, 'growing-heap', 'not growing at the end')
      return
    }
    t.ok(result.delayMs !== null && result.delayMs <= 60_000, `${series.expected} within one window of the leak's start (${result.delayMs} ms)`)
    t.equal(result.steadyDuringLeak, 0, 'never steady once the leak was reported')
    t.equal(result.final, series.expected, 'still reported at the end')
  })
}
