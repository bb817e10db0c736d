import { theilSen } from './theil-sen.js'
import type { SlopeFit } from './theil-sen.js'
import type { ResolvedTrendThresholds } from '../types/options.js'
import type { SeriesTrend, TimedValue } from '../types/trend.js'

/** A series' trend as reported, with the line it was read from (`null` when too few points). */
export interface Fitted {
  trend: SeriesTrend
  fit: SlopeFit | null
}

export function fitSeries (points: readonly TimedValue[]): Fitted {
  const trend: SeriesTrend = { slopeBytesPerMinute: null, confidence: null, relativeGrowth: null, samples: points.length, spanMs: 0 }
  const fit = theilSen(points)
  if (fit === null) return { trend, fit }
  trend.spanMs = points.reduce((latest, p) => Math.max(latest, p.t), fit.originMs) - fit.originMs
  trend.slopeBytesPerMinute = fit.slopePerMinute
  trend.confidence = fit.confidence
  // At least 1 byte, so that a level of 0 cannot divide by zero.
  trend.relativeGrowth = (fit.slopePerMs * trend.spanMs) / Math.max(fit.intercept, 1)
  return { trend, fit }
}

export interface Rise {
  /** The fitted series' trend: its span and confidence. */
  trend: SeriesTrend
  /** The growth judged, which may differ from the trend's own slope (once a rate is discounted). */
  slopePerMinute: number
  /** What the growth is relative to. */
  level: number
}

/** Whether a growth is fast, large and consistent enough to count, by the thresholds. */
export function rises ({ trend, slopePerMinute, level }: Rise, thresholds: ResolvedTrendThresholds): boolean {
  const relative = slopePerMinute * trend.spanMs / 60_000 / Math.max(level, 1)
  return slopePerMinute >= thresholds.minSlopeBytesPerMinute &&
    relative >= thresholds.minRelativeGrowth &&
    trend.confidence! >= thresholds.minConfidence
}

/** Whether a fitted series rises at its own slope, relative to its own level. */
export function fitRises (fitted: Fitted, thresholds: ResolvedTrendThresholds): boolean {
  return fitted.fit !== null && rises({ trend: fitted.trend, slopePerMinute: fitted.fit.slopePerMinute, level: fitted.fit.intercept }, thresholds)
}
