// Replays a recorded memory series through the trend verdict, as the plugin's sampler would
// have fed it, and reports the verdict over time.
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { resolveTrendThresholds } from '../../plugin/trend/thresholds.js'
import { judgeTrend } from '../../plugin/trend/verdict.js'
import type { TrendThresholds } from '../../plugin/types/options.js'
import type { TimedValue, TrendReport, TrendVerdict } from '../../plugin/types/trend.js'

export type Expectation = 'growing-heap' | 'growing-native' | 'not-growing'

export interface MemorySeries {
  name: string
  description: string
  expected: Expectation
  /** When the leak starts, ms after the recording started (default: when the load starts). */
  leakStartsAtMs?: number
  /**
   * For a series that is not a leak: from when on no growing-* verdict is acceptable, ms after the
   * recording started (default 0: never). A cache that fills is growing while it fills.
   */
  notGrowingAfterMs?: number
  /**
   * For a leak the recording cannot prove (e.g. V8 ran too few major GCs): why. Then the verdict
   * is held only to never reading steady, or growing the wrong way, once the leak started.
   */
  undecidable?: string
  loadStartedAtMs: number
  heapLimitBytes: number
  /**
   * [tMs, heapUsed, rss, external, arrayBuffers, heapAfterGcLow | null, majorGcs] every second;
   * newer recordings add [heapTotal, anonymousBytes | null, threads | null].
   */
  samples: Array<[number, number, number, number, number, number | null, number, number?, (number | null)?, (number | null)?]>
  /** [tMs, heapUsed right after the major GC]. */
  majorGcs: Array<[number, number]>
}

export const SERIES_DIR = fileURLToPath(new URL('../../test/fixtures/memory-series/', import.meta.url))

export function loadAllSeries (): MemorySeries[] {
  return readdirSync(SERIES_DIR).filter((file) => file.endsWith('.json')).sort()
    .map((file) => JSON.parse(readFileSync(SERIES_DIR + file, 'utf8')) as MemorySeries)
}

export interface ReplayStep {
  tMs: number
  report: TrendReport
}

/**
 * Feeds the verdict every `intervalMs` (a multiple of the recording's 1 s), with what the
 * sampler would hold then: the last reading of each field, the lowest heap after a GC over the
 * interval, and the major GCs so far.
 */
export function replay (series: MemorySeries, thresholds: TrendThresholds, intervalMs = 1000): ReplayStep[] {
  const resolved = resolveTrendThresholds(thresholds)
  const rows = Math.max(1, Math.round(intervalMs / 1000))
  const heapUsed: TimedValue[] = []
  const heapFloor: TimedValue[] = []
  const rss: TimedValue[] = []
  const external: TimedValue[] = []
  const heapTotal: TimedValue[] = []
  const rssAnon: TimedValue[] = []
  const threads: TimedValue[] = []
  const steps: ReplayStep[] = []
  let previous: TrendReport | null = null
  let low = Infinity
  for (let i = 0; i < series.samples.length; i++) {
    const [t, used, resident, ext, , floor, , total, anonymous, threadCount] = series.samples[i]!
    if (floor !== null) low = Math.min(low, floor)
    if ((i + 1) % rows !== 0) continue
    heapUsed.push({ t, v: used })
    if (Number.isFinite(low)) heapFloor.push({ t, v: low })
    low = Infinity
    rss.push({ t, v: resident })
    external.push({ t, v: ext })
    if (total !== undefined) heapTotal.push({ t, v: total })
    if (anonymous !== undefined && anonymous !== null) rssAnon.push({ t, v: anonymous })
    if (threadCount !== undefined && threadCount !== null) threads.push({ t, v: threadCount })
    const majorGcHeap = series.majorGcs.filter(([at]) => at <= t).map(([at, v]) => ({ t: at, v }))
    previous = judgeTrend({
      now: t,
      heapUsed,
      heapFloor,
      majorGcHeap,
      rss,
      external,
      // older recordings have no heapTotal: heapUsed stands in, as the verdict does without it
      ...(heapTotal.length > 0 ? { heapTotal } : {}),
      rssAnon,
      threads,
      limits: { heapLimitBytes: series.heapLimitBytes, containerLimitBytes: null, containerUsageBytes: null }
    }, resolved, previous)
    steps.push({ tMs: t, report: previous })
  }
  return steps
}

export const GROWING: readonly TrendVerdict[] = ['growing-heap', 'growing-native']

/** Runs of the same verdict: `steady 0-59 s, growing-heap 60-240 s`. */
export function verdictRuns (steps: readonly ReplayStep[], offsetMs = 0): string {
  const runs: Array<{ verdict: string, from: number, to: number }> = []
  for (const { tMs, report } of steps) {
    const last = runs.at(-1)
    if (last !== undefined && last.verdict === report.verdict) last.to = tMs
    else runs.push({ verdict: report.verdict, from: tMs, to: tMs })
  }
  const s = (ms: number) => Math.round((ms - offsetMs) / 1000)
  return runs.map((run) => `${run.verdict} ${s(run.from)}–${s(run.to)} s`).join(', ')
}

export interface SeriesScore {
  name: string
  expected: Expectation
  runs: string
  /** Time from the leak's start to the first right growing-* verdict, null if none (or not a leak). */
  delayMs: number | null
  /** Steps with a growing-* verdict where none is acceptable (a leak's wrong kind counts too). */
  falseGrowing: number
  /** For a leak: steps that said `steady` after the first right verdict. */
  steadyDuringLeak: number
  final: TrendVerdict
}

export function score (series: MemorySeries, steps: readonly ReplayStep[]): SeriesScore {
  const base = { name: series.name, expected: series.expected, runs: verdictRuns(steps, series.loadStartedAtMs), final: steps.at(-1)!.report.verdict }
  if (series.expected === 'not-growing') {
    const after = series.notGrowingAfterMs ?? 0
    const falseGrowing = steps.filter((s) => s.tMs >= after && GROWING.includes(s.report.verdict)).length
    return { ...base, delayMs: null, falseGrowing, steadyDuringLeak: 0 }
  }
  const start = series.leakStartsAtMs ?? series.loadStartedAtMs
  const first = steps.find((s) => s.tMs >= start && s.report.verdict === series.expected)
  const later = first === undefined ? [] : steps.filter((s) => s.tMs > first.tMs)
  return {
    ...base,
    delayMs: first === undefined ? null : first.tMs - start,
    falseGrowing: steps.filter((s) => GROWING.includes(s.report.verdict) && s.report.verdict !== series.expected).length +
      steps.filter((s) => s.tMs < start && GROWING.includes(s.report.verdict)).length,
    steadyDuringLeak: later.filter((s) => s.report.verdict === 'steady').length
  }
}

/**
 * Assessments by expected class and verdict, once judgeable: after the first half window (nothing
 * can be judged before), after a leak's start, and for a cache that fills, once it is full.
 */
export function confusion (series: readonly MemorySeries[], windowMs: number, intervalMs: number): Map<Expectation, Map<TrendVerdict, number>> {
  const table = new Map<Expectation, Map<TrendVerdict, number>>()
  for (const one of series) {
    const from = Math.max(one.loadStartedAtMs + windowMs / 2, one.leakStartsAtMs ?? 0, one.notGrowingAfterMs ?? 0)
    const row = table.get(one.expected) ?? new Map<TrendVerdict, number>()
    for (const step of replay(one, { windowMs }, intervalMs).filter((s) => s.tMs >= from)) row.set(step.report.verdict, (row.get(step.report.verdict) ?? 0) + 1)
    table.set(one.expected, row)
  }
  return table
}
