// Memory outside the heap that only RSS sees (a library's malloc, WebAssembly memory, threads),
// judged by the verdict on synthetic 1 s samples over a 60 s window: a steady climb is
// growing-native, what is not a leak (a plateau, a one-off step, V8 committing more heap) is not.
import t from 'tap'
import { resolveTrendThresholds } from '../../../plugin/trend/thresholds.js'
import { judgeTrend } from '../../../plugin/trend/verdict.js'
import type { TimedValue, TrendReport } from '../../../plugin/types/trend.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const MIB = 1024 * 1024
const START = Date.UTC(2025, 0, 1, 12, 0, 0)
const thresholds = resolveTrendThresholds({ windowMs: 60_000 })

interface Shape {
  /** Memory no counter explains at second `s`. */
  unexplained: (s: number) => number
  /** The heap's committed size at second `s` (40 MiB by default). */
  heapTotal?: (s: number) => number
  threads?: (s: number) => number
}

/** The verdict every second for `seconds`, with ±1 MiB of noise on RSS and a flat heap floor. */
function run ({ unexplained, heapTotal = () => 40 * MIB, threads = () => 11 }: Shape, seconds = 150): TrendReport[] {
  const next = seededRandom(3)
  const series = { heapUsed: [] as TimedValue[], heapFloor: [] as TimedValue[], heapTotal: [] as TimedValue[], rss: [] as TimedValue[], rssAnon: [] as TimedValue[], external: [] as TimedValue[], threads: [] as TimedValue[] }
  const reports: TrendReport[] = []
  let previous: TrendReport | null = null
  for (let s = 0; s <= seconds; s++) {
    const t = START + s * 1000
    const floor = 20 * MIB + (next() - 0.5) * 0.2 * MIB
    const anon = heapTotal(s) + 2 * MIB + unexplained(s) + (next() * 2 - 1) * MIB
    series.heapFloor.push({ t, v: floor })
    series.heapUsed.push({ t, v: floor + 4 * MIB })
    series.heapTotal.push({ t, v: heapTotal(s) })
    series.rssAnon.push({ t, v: anon })
    series.rss.push({ t, v: anon + 45 * MIB })
    series.external.push({ t, v: 2 * MIB })
    series.threads.push({ t, v: threads(s) })
    previous = judgeTrend({ now: t, ...series, majorGcHeap: [], limits: { heapLimitBytes: 4096 * MIB, containerLimitBytes: 2048 * MIB, containerUsageBytes: anon + 45 * MIB } }, thresholds, previous)
    reports.push(previous)
  }
  return reports
}

const runs = (reports: readonly TrendReport[]) => reports.map((r, s) => `${s}:${r.verdict}`).filter((x, i, all) => i === 0 || x.split(':')[1] !== all[i - 1]!.split(':')[1]).join(' ')

t.test('a steady climb no counter explains is growing-native within a window, never steady', async (t) => {
  const reports = run({ unexplained: (s) => 30 * MIB + 60 * MIB * s / 60, threads: (s) => 11 + Math.floor(s / 30) })
  const first = reports.findIndex((r) => r.verdict === 'growing-native')
  t.ok(first > 0 && first <= 60, `growing-native after ${first} s (${runs(reports)})`)
  t.notOk(reports.some((r) => r.verdict === 'steady' || r.verdict === 'growing-heap'), 'never steady, never called a heap leak')
  const last = reports.at(-1)!
  t.match(last.reason, /memory no counter explains keeps rising .*none of it in the JS heap or in external/, last.reason)
  t.match(last.reason, /threads 14 → 16/, 'the threads at the start and the end of the window')
  t.ok(last.outsideHeap.slopeBytesPerMinute! > 50 * MIB && last.outsideHeap.slopeBytesPerMinute! < 70 * MIB, 'the slope of what no counter explains')
  t.equal(last.timeToLimit?.limit, 'container', 'time to the container\'s limit, at the rate RSS grows')
  t.ok(last.timeToLimit!.seconds > 600 && last.timeToLimit!.seconds < 1800, `${last.timeToLimit!.seconds} s`)
})

t.test('what is not a native leak is not growing-native once it shows it', async (t) => {
  // While a pool fills it climbs like a leak; once flat, the verdict must let go within 20 s.
  const filling = run({ unexplained: (s) => 30 * MIB + 60 * MIB * Math.min(s, 30) / 60 })
  t.notOk(filling.some((r, s) => s > 50 && r.verdict.startsWith('growing')), `a pool filling for 30 s, then flat: ${runs(filling)}`)
  t.equal(filling.at(-1)!.verdict, 'steady', 'steady once flat for a window')

  const shapes: Record<string, Shape> = {
    // what a heap snapshot leaves behind with glibc, or a library loaded: once, then flat
    'one-off step': { unexplained: (s) => 30 * MIB + (s >= 40 ? 300 * MIB : 0) },
    // V8 committing more heap: RSS grows, and the heap's committed size with it
    'heap reservation': { unexplained: () => 30 * MIB, heapTotal: (s) => 40 * MIB + 30 * MIB * s / 60 },
    flat: { unexplained: () => 30 * MIB }
  }
  for (const [name, shape] of Object.entries(shapes)) {
    const reports = run(shape)
    t.notOk(reports.some((r) => r.verdict.startsWith('growing')), `${name}, never growing: ${runs(reports)}`)
    t.equal(reports.at(-1)!.verdict, 'steady', `${name}: steady once flat for a window (${reports.at(-1)!.reason})`)
  }
})
