import t from 'tap'
import {
  createLeakDetector,
  leakVerdict,
  resolveLeakThresholds,
  theilSen
} from '../../plugin/trend.js'
import type { LeakInput, TimedValue } from '../../plugin/trend.js'

const MIB = 1024 * 1024
const MINUTE = 60_000
const START = Date.UTC(2025, 0, 1, 12, 0, 0)

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure can be replayed. */
function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Simulation {
  minutes: number
  /** Live (reachable) heap in bytes at `minute` minutes after START. */
  liveHeap?: (minute: number) => number
  /** Memory outside the V8 heap in bytes at `minute`. */
  native?: (minute: number) => number
  seed?: number
}

/**
 * A process as the sampler would see it: garbage piles up at a jittered rate on top of the
 * live heap (the sawtooth), each major GC at +30 MiB brings the heap back to the live set
 * ± 1.5 MiB (recorded as a post-GC point), and RSS is sampled every 5 s: a base, the heap's
 * high-water mark, native memory, ± 3 MiB of noise.
 */
function simulate ({ minutes, liveHeap = () => 60 * MIB, native = () => 40 * MIB, seed = 1 }: Simulation): LeakInput {
  const next = random(seed)
  const noise = (amplitude: number): number => (next() * 2 - 1) * amplitude
  const postGcHeap: TimedValue[] = []
  const rss: TimedValue[] = []
  let heapUsed = liveHeap(0)
  for (let second = 0; second <= minutes * 60; second++) {
    const minute = second / 60
    const t = START + second * 1000
    heapUsed += (1 + next()) * MIB
    if (heapUsed - liveHeap(minute) > 30 * MIB) {
      heapUsed = liveHeap(minute) + noise(1.5 * MIB)
      postGcHeap.push({ t, v: heapUsed })
    }
    if (second % 5 === 0) rss.push({ t, v: 50 * MIB + liveHeap(minute) + 30 * MIB + native(minute) + noise(3 * MIB) })
  }
  return { now: START + minutes * MINUTE, postGcHeap, rss }
}

function line (count: number, slopePerMs: number, intercept: number, stepMs = 5000): TimedValue[] {
  return Array.from({ length: count }, (_, i) => ({ t: START + i * stepMs, v: intercept + slopePerMs * i * stepMs }))
}

t.test('theilSen', async (t) => {
  t.test('fits an exact line, with both parities of the slope count', async (t) => {
    for (const count of [3, 4]) {
      const fit = theilSen(line(count, 2, 1000))
      t.ok(fit, `${count} points`)
      t.equal(fit?.slopePerMs, 2)
      t.equal(fit?.slopePerMinute, 120_000)
      t.equal(fit?.intercept, 1000)
      t.equal(fit?.originMs, START)
      t.equal(fit?.confidence, 1)
      t.equal(fit?.points, count)
    }
  })

  t.test('a flat series has slope 0 with full confidence', async (t) => {
    const fit = theilSen(line(10, 0, 5))
    t.equal(fit?.slopePerMs, 0)
    t.equal(fit?.confidence, 1)
  })

  t.test('keeps the right slope with 20% outliers, where least squares does not', async (t) => {
    const next = random(7)
    const slopePerMs = 2 * MIB / MINUTE
    const points = line(300, slopePerMs, 60 * MIB).map((point) => ({
      t: point.t,
      v: next() < 0.2
        ? point.v + (1 + next() * 3) * 60 * MIB * (point.t - START < 12 * MINUTE ? 1 : -0.3)
        : point.v + (next() * 2 - 1) * MIB
    }))
    const outliers = points.filter((point, i) => Math.abs(point.v - 60 * MIB - slopePerMs * i * 5000) > 2 * MIB).length
    t.ok(outliers >= 50 && outliers <= 70, `${outliers} outliers out of 300`)

    const fit = theilSen(points)
    const error = Math.abs((fit?.slopePerMs ?? 0) - slopePerMs) / slopePerMs
    t.ok(error < 0.05, `Theil–Sen slope within 5% (${(error * 100).toFixed(2)}%)`)

    const leastSquaresError = Math.abs(leastSquaresSlope(points) - slopePerMs) / slopePerMs
    t.ok(leastSquaresError > 0.5, `least squares is fooled (${(leastSquaresError * 100).toFixed(0)}% off)`)
  })

  t.test('confidence is about one half for pure noise', async (t) => {
    const next = random(3)
    const fit = theilSen(line(200, 0, 60 * MIB).map((point) => ({ t: point.t, v: point.v + next() * MIB })))
    t.ok(fit !== null && fit.confidence > 0.4 && fit.confidence < 0.6, `confidence ${fit?.confidence}`)
  })

  t.test('accepts points in any order and skips non-finite ones', async (t) => {
    const points = line(20, 3, 100)
    const shuffled = [...points.slice(10), { t: START, v: NaN }, { t: Infinity, v: 1 }, ...points.slice(0, 10)]
    t.same(theilSen(shuffled), theilSen(points))
  })

  t.test('returns null without two distinct timestamps', async (t) => {
    t.equal(theilSen([]), null)
    t.equal(theilSen([{ t: START, v: 1 }]), null)
    t.equal(theilSen([{ t: START, v: 1 }, { t: START, v: 2 }]), null)
  })

  t.test('evenly subsamples long series', async (t) => {
    const points = line(1000, 0.5, 10)
    t.equal(theilSen(points)?.points, 120)
    const fit = theilSen(points, { maxPoints: 50 })
    t.equal(fit?.points, 50)
    t.equal(fit?.slopePerMs, 0.5)
    t.equal(fit?.originMs, START)
    t.throws(() => theilSen(points, { maxPoints: 1 }), { code: 'FST_MEMDIAG_INVALID_OPTION' })
    t.throws(() => theilSen(points, { maxPoints: 2.5 }), { code: 'FST_MEMDIAG_INVALID_OPTION' })
  })
})

function leastSquaresSlope (points: readonly TimedValue[]): number {
  const meanT = points.reduce((sum, point) => sum + point.t, 0) / points.length
  const meanV = points.reduce((sum, point) => sum + point.v, 0) / points.length
  let covariance = 0
  let variance = 0
  for (const point of points) {
    covariance += (point.t - meanT) * (point.v - meanV)
    variance += (point.t - meanT) ** 2
  }
  return covariance / variance
}

t.test('leakVerdict', async (t) => {
  t.test('a steady sawtooth with noise is steady', async (t) => {
    const input = simulate({ minutes: 30 })
    t.ok(input.postGcHeap.length > 40, `${input.postGcHeap.length} major GCs in 30 minutes`)
    const report = leakVerdict(input)
    t.equal(report.verdict, 'steady', report.reason)
    t.equal(report.since, null)
    t.match(report.reason, /^no sustained growth: heap after major GCs [+-][\d.]+ KiB\/min/)
    t.equal(report.rss.samples, 121, 'the last 10 minutes of 5 s samples, both ends included')
    t.equal(report.rss.windowMs, 600_000)
  })

  t.test('a slow rise (+2 MiB/min on a 60 MiB heap) under noise is growing-heap', async (t) => {
    const input = simulate({ minutes: 30, liveHeap: (minute) => 60 * MIB + 2 * MIB * Math.max(minute - 20, 0) })
    const report = leakVerdict(input)
    t.equal(report.verdict, 'growing-heap', report.reason)
    t.equal(report.since, new Date(input.now).toISOString())
    t.match(report.reason, /^the heap after major GCs keeps rising: \+[12]\.\d MiB\/min/)
    const slope = report.postGcHeap.slopeBytesPerMinute ?? 0
    t.ok(Math.abs(slope - 2 * MIB) < 0.1 * 2 * MIB, `post-GC heap slope ${(slope / MIB).toFixed(2)} MiB/min`)
    t.ok((report.postGcHeap.confidence ?? 0) >= 0.8)
    t.ok((report.postGcHeap.relativeGrowth ?? 0) > 0.2)
  })

  t.test('RSS rising under a flat post-GC heap is growing-native', async (t) => {
    const input = simulate({ minutes: 30, native: (minute) => 40 * MIB + 2 * MIB * minute })
    const report = leakVerdict(input)
    t.equal(report.verdict, 'growing-native', report.reason)
    t.match(report.reason, /^RSS keeps rising \(\+2\.\d MiB\/min.*\) while the heap after major GCs does not .*: 2\.\d MiB\/min grows outside the V8 heap$/)
  })

  t.test('RSS growth that the heap explains is not native', async (t) => {
    // The heap grows 200 KiB/min (under the 256 KiB/min threshold), RSS 400 KiB/min: only
    // 200 KiB/min is unexplained.
    const report = leakVerdict({
      now: START + 10 * MINUTE,
      postGcHeap: line(30, 200 * 1024 / MINUTE, 60 * MIB, 20_000),
      rss: line(121, 400 * 1024 / MINUTE, 150 * MIB)
    })
    t.equal(report.verdict, 'steady', report.reason)
    t.ok((report.rss.relativeGrowth ?? 0) > 0.02, 'RSS alone would pass the relative growth test')
  })

  t.test('too few samples or too short a span is insufficient-data', async (t) => {
    const growing = simulate({ minutes: 5, liveHeap: (minute) => 60 * MIB + 2 * MIB * minute })
    const early = leakVerdict(growing)
    t.equal(early.verdict, 'insufficient-data', 'five minutes of a leak are not enough')
    t.match(early.reason, /post-GC heap samples spanning [\d.]+ min in the last 10\.0 min; a verdict needs at least 8 spanning 7\.5 min$/)
    t.equal(early.since, new Date(growing.now).toISOString())

    const fewGcs = leakVerdict({ ...simulate({ minutes: 30 }), postGcHeap: line(5, 0, 60 * MIB, 2 * MINUTE).map((point) => ({ ...point, t: point.t + 20 * MINUTE })) })
    t.equal(fewGcs.verdict, 'insufficient-data', 'five major GCs in the window are not enough')
    t.equal(fewGcs.postGcHeap.samples, 5)

    const nothing = leakVerdict({ now: START, postGcHeap: [], rss: [] })
    t.equal(nothing.verdict, 'insufficient-data')
    t.same(nothing.postGcHeap, {
      slopeBytesPerMinute: null,
      confidence: null,
      relativeGrowth: null,
      olderHalfSlopeBytesPerMinute: null,
      newerHalfSlopeBytesPerMinute: null,
      samples: 0,
      spanMs: 0,
      windowMs: 600_000
    })
  })

  t.test('a flat heap without enough RSS samples is insufficient-data, a growing one is not', async (t) => {
    const heapOnly = (input: LeakInput): LeakInput => ({ ...input, rss: input.rss.filter((_, i) => i % 3 === 0) })
    const flat = leakVerdict(heapOnly(simulate({ minutes: 30 })))
    t.equal(flat.verdict, 'insufficient-data', flat.reason)
    t.match(flat.reason, /^41 RSS samples/)
    const growing = leakVerdict(heapOnly(simulate({ minutes: 30, liveHeap: (minute) => 60 * MIB + 2 * MIB * minute })))
    t.equal(growing.verdict, 'growing-heap', 'the heap alone is enough to see a heap leak')
  })

  t.test('a cache filling once is not a leak, during the window or after', async (t) => {
    // A jump of 40 MiB at minute 15: while it is in the window, up to ~80% of the sample pairs
    // agree on a rise, but one half of the window is always flat.
    const jump = simulate({ minutes: 40, liveHeap: (minute) => 60 * MIB + (minute >= 15 ? 40 * MIB : 0), seed: 11 })
    let oneOff = 0
    for (let minute = 10; minute <= 40; minute++) {
      const report = leakVerdict({ ...jump, now: START + minute * MINUTE })
      t.equal(report.verdict, 'steady', `jump at minute 15, assessed at minute ${minute}: ${report.reason}`)
      if (report.reason.includes('a one-off rise')) oneOff++
    }
    t.ok(oneOff > 0, `${oneOff} assessments saw a rise overall and called it one-off`)

    // A fill spread over 5 minutes is a leak as far as the samples can tell while it sits in the
    // middle of the window (both halves rise alike); for a few minutes at most, far from the 15
    // the alert waits for, and never once the window has passed it.
    const fill = simulate({ minutes: 40, liveHeap: (minute) => 60 * MIB + 40 * MIB * Math.min(Math.max(minute - 10, 0) / 5, 1), seed: 5 })
    const growingAt: number[] = []
    for (let minute = 10; minute <= 40; minute++) {
      const report = leakVerdict({ ...fill, now: START + minute * MINUTE })
      if (report.verdict === 'growing-heap') growingAt.push(minute)
      else t.equal(report.verdict, 'steady', `fill over minutes 10-15, assessed at minute ${minute}: ${report.reason}`)
    }
    t.ok(growingAt.length <= 3, `growing-heap at minutes [${growingAt.join(', ')}] only`)
    t.ok(growingAt.every((minute) => minute < 25), 'not once the window has passed the fill')
  })

  t.test('a rise with too few major GCs in one half is not called steady', async (t) => {
    const postGcHeap = [
      { t: START, v: 60 * MIB },
      ...line(9, 4 * MIB / MINUTE, 61 * MIB, 20_000).map((point) => ({ ...point, t: point.t + 7 * MINUTE }))
    ]
    const report = leakVerdict({ now: START + 10 * MINUTE, postGcHeap, rss: line(121, 0, 150 * MIB) })
    t.equal(report.verdict, 'insufficient-data', 'one GC in the older half cannot show it was flat')
    t.equal(report.postGcHeap.olderHalfSlopeBytesPerMinute, null)
    t.match(report.reason, /with 1 major GC\(s\) in one half of the window a leak cannot be told from a one-off rise yet/)
  })

  t.test('a shrinking heap is steady', async (t) => {
    const report = leakVerdict(simulate({ minutes: 30, liveHeap: (minute) => 200 * MIB - 2 * MIB * minute }))
    t.equal(report.verdict, 'steady')
    t.match(report.reason, /heap after major GCs -2\.\d MiB\/min, -[\d.]+%/)
  })

  t.test('only samples inside the window count', async (t) => {
    const input = simulate({ minutes: 30 })
    const report = leakVerdict({ ...input, now: START + 20 * MINUTE })
    t.equal(report.rss.samples, 121)
    t.equal(report.rss.spanMs, 600_000)
    const growingEarlier = simulate({ minutes: 30, liveHeap: (minute) => 60 * MIB + 4 * MIB * Math.min(minute, 15) })
    t.equal(leakVerdict(growingEarlier).verdict, 'steady', 'a rise that stopped 15 minutes ago')
    t.equal(leakVerdict({ ...growingEarlier, now: START + 14 * MINUTE }).verdict, 'growing-heap', 'the same rise seen at the time')
  })

  t.test('thresholds', async (t) => {
    const input = simulate({ minutes: 30, liveHeap: (minute) => 60 * MIB + 2 * MIB * minute })
    t.equal(leakVerdict(input, { minSlopeBytesPerMinute: 3 * MIB }).verdict, 'steady', 'a higher slope threshold')
    t.equal(leakVerdict(input, { minRelativeGrowth: 0.5 }).verdict, 'steady', 'a higher relative growth threshold')
    t.equal(leakVerdict(input, { windowMs: 30 * MINUTE }).postGcHeap.windowMs, 30 * MINUTE)
    t.equal(leakVerdict(simulate({ minutes: 10 }), { windowMs: 20 * MINUTE }).verdict, 'insufficient-data', 'minSpanMs follows windowMs')
  })
})

t.test('resolveLeakThresholds', async (t) => {
  t.same(resolveLeakThresholds(), {
    windowMs: 600_000,
    minSpanMs: 450_000,
    minPostGcSamples: 8,
    minRssSamples: 60,
    minSlopeBytesPerMinute: 262_144,
    minRelativeGrowth: 0.02,
    minConfidence: 0.8
  })
  const thresholds = { windowMs: 60_000 }
  t.equal(resolveLeakThresholds(thresholds).minSpanMs, 45_000)
  t.same(thresholds, { windowMs: 60_000 }, 'does not mutate its argument')

  const invalid = [
    { windowMs: 0 },
    { windowMs: Infinity },
    { minSpanMs: -1 },
    { minSpanMs: 700_000 },
    { minPostGcSamples: 1 },
    { minRssSamples: 10.5 },
    { minSlopeBytesPerMinute: NaN },
    { minRelativeGrowth: -0.1 },
    { minConfidence: 0.5 },
    { minConfidence: 1.1 }
  ]
  for (const thresholds of invalid) {
    t.throws(() => resolveLeakThresholds(thresholds), { code: 'FST_MEMDIAG_INVALID_OPTION' }, JSON.stringify(thresholds))
  }
})

t.test('createLeakDetector keeps since while the verdict holds', async (t) => {
  t.throws(() => createLeakDetector({ minConfidence: 2 }), { code: 'FST_MEMDIAG_INVALID_OPTION' }, 'bad thresholds fail at creation')

  // Steady for 20 minutes, then leaking from minute 20 on.
  const input = simulate({ minutes: 60, liveHeap: (minute) => 60 * MIB + 2 * MIB * Math.max(minute - 20, 0) })
  const at = (minute: number): LeakInput => ({ ...input, now: START + minute * MINUTE })
  const detector = createLeakDetector()
  t.equal(detector.current, null)

  t.equal(detector.assess(at(3)).verdict, 'insufficient-data')
  const stillInsufficient = detector.assess(at(5))
  t.equal(stillInsufficient.since, new Date(START + 3 * MINUTE).toISOString())

  t.equal(detector.assess(at(15)).verdict, 'steady')
  t.equal(detector.current?.since, null)

  let firstGrowing: number | null = null
  for (let minute = 21; minute <= 40; minute++) {
    const report = detector.assess(at(minute))
    if (report.verdict === 'growing-heap') {
      firstGrowing ??= minute
      t.equal(report.since, new Date(START + firstGrowing * MINUTE).toISOString(), `since kept at minute ${minute}`)
    }
  }
  t.ok(firstGrowing !== null && firstGrowing <= 30, `growing-heap from minute ${firstGrowing}: within one window of the leak's start`)
  t.equal(detector.current?.verdict, 'growing-heap')

  t.equal(detector.assess({ ...at(40), postGcHeap: [] }).verdict, 'insufficient-data')
  t.equal(detector.current?.since, new Date(START + 40 * MINUTE).toISOString(), 'a new verdict starts a new since')
  t.equal(detector.assess(at(41)).since, new Date(START + 41 * MINUTE).toISOString(), 'and so does going back')

  detector.reset()
  t.equal(detector.current, null)
  t.equal(detector.assess(at(42)).since, new Date(START + 42 * MINUTE).toISOString(), 'reset forgets the history')
})
