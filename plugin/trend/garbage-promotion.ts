import { GC_EVENT_MS } from './gc-events.js'
import type { TimedValue } from '../types/trend.js'

/**
 * Bytes per minute of garbage promoted during the last full GC cycle: the highest floor between
 * the two last major GC events minus what the last one left, over the cycle's length.
 */
export function garbageRate (floor: readonly TimedValue[], majors: readonly TimedValue[], now: number): number | null {
  const last = majors.at(-1)
  if (last === undefined) return null
  let eventLow = last.v
  let k = majors.length - 1
  while (k > 0 && last.t - majors[k - 1]!.t < GC_EVENT_MS) eventLow = Math.min(eventLow, majors[--k]!.v)
  // Before the first major GC we know of, the cycle started at the first floor sample at the latest.
  const cycleStart = majors[k - 1] ?? floor.find((p) => p.t < majors[k]!.t)
  if (cycleStart === undefined) return null
  let peak = -Infinity
  for (const p of floor) {
    if (p.t > cycleStart.t && p.t < majors[k]!.t && p.t <= now && p.v > peak) peak = p.v
  }
  if (!Number.isFinite(peak)) return null
  return Math.max(0, peak - eventLow) / (majors[k]!.t - cycleStart.t) * 60_000
}

/**
 * The floor minus the garbage promoted since the last major GC before each point, at the rate
 * learned from the last full cycle: an estimate of the live heap that does not saw-tooth.
 */
export function withoutGarbage (points: readonly TimedValue[], majors: readonly TimedValue[], garbagePerMinute: number | null): TimedValue[] {
  if (garbagePerMinute === null || garbagePerMinute === 0) return [...points]
  let k = -1
  return points.map((p) => {
    while (k + 1 < majors.length && majors[k + 1]!.t <= p.t) k++
    return k < 0 ? p : { t: p.t, v: p.v - garbagePerMinute * (p.t - majors[k]!.t) / 60_000 }
  })
}
