import type { Fitted } from './series-fit.js'
import type { TimedValue } from '../types/trend.js'

/**
 * The points after a one-off step (a cache warmed at once, a deploy's first requests): when one
 * jump between two samples exceeds `share` of the fitted rise (half by default), the rise is that
 * jump, and only what follows it can show a leak. (A leak sampled every few seconds climbs in small steps.)
 */
export function afterStep (points: readonly TimedValue[], fitted: Fitted, share = 0.5): readonly TimedValue[] {
  if (fitted.fit === null) return points
  const rise = fitted.fit.slopePerMs * fitted.trend.spanMs
  let jumpAt = -1
  let jump = 0
  for (let i = 1; i < points.length; i++) {
    const delta = points[i]!.v - points[i - 1]!.v
    if (delta > jump) {
      jump = delta
      jumpAt = i
    }
  }
  return rise > 0 && jump > rise * share ? points.slice(jumpAt) : points
}
