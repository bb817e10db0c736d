import t from 'tap'
import { median, theilSen } from '../../../plugin/trend/theil-sen.js'
import type { TimedValue } from '../../../plugin/types/trend.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const MIB = 1024 * 1024
const MINUTE = 60_000
const START = Date.UTC(2025, 0, 1, 12, 0, 0)

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
    const next = seededRandom(7)
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
    const next = seededRandom(3)
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
    t.equal(theilSen(points)?.points, 60, '60 by default: what a judgement costs every sample')
    const fit = theilSen(points, { maxPoints: 50 })
    t.equal(fit?.points, 50)
    t.equal(fit?.slopePerMs, 0.5)
    t.equal(fit?.originMs, START)
    t.equal(theilSen(points, { maxPoints: 1 })?.points, 2, 'never fewer than two points')
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

t.test('median by selection equals the middle of the sorted values, whatever their order', async (t) => {
  const random = seededRandom(11)
  const orders: Record<string, (i: number, n: number) => number> = {
    random: () => random(),
    'few distinct values': () => Math.floor(random() * 3),
    ascending: (i) => i,
    descending: (i, n) => n - i,
    'all equal': () => 42,
    // median-of-three killers: the pivot lands on an extreme at every step
    'organ pipe': (i, n) => i < n / 2 ? i : n - i,
    sawtooth: (i) => i % 7
  }
  let compared = 0
  for (const [name, value] of Object.entries(orders)) {
    for (const n of [1, 2, 3, 4, 5, 10, 31, 64, 257, 7140]) {
      const values = Float64Array.from({ length: n }, (_, i) => value(i, n))
      const sorted = values.slice().sort()
      const middle = n >> 1
      const expected = n % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2
      const got = median(values.slice())
      if (got !== expected) t.fail(`${name}, ${n} values: ${got} instead of ${expected}`)
      compared++
    }
  }
  t.equal(compared, 70, 'every order and size compared')
})
