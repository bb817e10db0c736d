import { DEFAULTS } from '../defaults.js'
import { InvalidOptionError } from '../errors.js'
import { integerAtLeast, positiveNumber } from '../option-checks.js'
import type { ResolvedTrendThresholds, TrendThresholds } from '../types/options.js'

/** Checks the thresholds and fills in the defaults; never mutates its argument. Called once, by the options gate. */
export function resolveTrendThresholds (thresholds: TrendThresholds = {}): ResolvedTrendThresholds {
  const defaults = DEFAULTS.trend.thresholds
  const name = (key: keyof TrendThresholds) => `trend.thresholds.${key}`
  const windowMs = positiveNumber(thresholds.windowMs, defaults.windowMs, name('windowMs'))
  const resolved: ResolvedTrendThresholds = {
    windowMs,
    minSpanMs: positiveNumber(thresholds.minSpanMs, defaults.minSpanMs(windowMs), name('minSpanMs')),
    minSamples: integerAtLeast(3, thresholds.minSamples, defaults.minSamples, name('minSamples')),
    minSlopeBytesPerMinute: positiveNumber(thresholds.minSlopeBytesPerMinute, defaults.minSlopeBytesPerMinute, name('minSlopeBytesPerMinute')),
    minRelativeGrowth: positiveNumber(thresholds.minRelativeGrowth, defaults.minRelativeGrowth, name('minRelativeGrowth')),
    minConfidence: positiveNumber(thresholds.minConfidence, defaults.minConfidence, name('minConfidence'))
  }
  if (resolved.minSpanMs > windowMs) {
    throw new InvalidOptionError(`\`trend.thresholds.minSpanMs\` (${resolved.minSpanMs}) cannot exceed \`windowMs\` (${windowMs})`)
  }
  if (resolved.minConfidence <= 0.5 || resolved.minConfidence > 1) {
    throw new InvalidOptionError(`\`trend.thresholds.minConfidence\` must be in (0.5, 1] (0.5 is what noise gives), got ${resolved.minConfidence}`)
  }
  return resolved
}
