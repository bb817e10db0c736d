import { gcEvents, MIN_TROUGHS } from './gc-events.js'
import { afterStep } from './one-off-step.js'
import { fitRises, fitSeries } from './series-fit.js'
import type { Fitted } from './series-fit.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { TimedValue } from '../types/trend.js'

// What survives a full collection is live: a rise of the heap right after major GCs is a leak
// whatever the garbage.

/**
 * The heap right after each major GC event (the lowest of a burst), fitted. Needs three events
 * spanning half the window: those in the window, and the last one before it as an anchor (a leak
 * with a major GC every 25-50 s gets two in a 60 s window). The anchor alone cannot make a flat
 * window rise: three of its four pairs would have to agree.
 */
export function troughsRise (anchor: TimedValue | null, majors: readonly TimedValue[], thresholds: ResolvedTrendThresholds): Fitted | null {
  const troughs = gcEvents(anchor === null ? majors : [anchor, ...majors])
  // Between two of three troughs a leak climbs about half its rise; a one-off step nearly all of it.
  const sinceStep = afterStep(troughs, fitSeries(troughs), 0.75)
  if (sinceStep.length < MIN_TROUGHS) return null
  const fitted = fitSeries(sinceStep)
  if (fitted.fit === null || fitted.trend.spanMs < thresholds.minSpanMs / 2) return null
  return fitRises(fitted, thresholds) ? fitted : null
}

/** The last major GC event in the window and the one before it (possibly before the window), when the later left more behind. */
export function lastTwoTroughsRise (majors: readonly TimedValue[], start: number, thresholds: ResolvedTrendThresholds): [TimedValue, TimedValue] | null {
  // Coarser events than elsewhere: V8 sometimes runs a second major GC a few seconds after the first.
  const troughs = gcEvents(majors, 10_000)
  const later = troughs.at(-1)
  const earlier = troughs.at(-2)
  if (later === undefined || earlier === undefined || later.t < start) return null
  const perMinute = (later.v - earlier.v) / (later.t - earlier.t) * 60_000
  const relative = (later.v - earlier.v) / Math.max(earlier.v, 1)
  return perMinute >= thresholds.minSlopeBytesPerMinute && relative >= thresholds.minRelativeGrowth ? [earlier, later] : null
}

/** How soon after a major GC the heap read after a scavenge still shows what that GC left. */
const SETTLE_MS = 1500

/**
 * Each major GC with the lowest of its own reading and the floor read within SETTLE_MS after it
 * (before the next). The reading is taken when the GC observer runs, after whatever the young
 * generation took since: measured live on Node 24, a start-up major GC read 36.9 MB and the floor
 * 27.8 MB within the second. For withholding "steady" only: a lower early trough makes a later
 * one look higher.
 */
export function settledMajors (majors: readonly TimedValue[], floor: readonly TimedValue[]): TimedValue[] {
  // Both oldest first: one walk over the floor (run after every sample, over up to an hour of it).
  let k = 0
  return majors.map((major, i) => {
    const until = Math.min(major.t + SETTLE_MS, majors[i + 1]?.t ?? Infinity)
    while (k < floor.length && floor[k]!.t <= major.t) k++
    let low = major.v
    for (let j = k; j < floor.length && floor[j]!.t <= until; j++) low = Math.min(low, floor[j]!.v)
    return low === major.v ? major : { t: major.t, v: low }
  })
}
