import { DEFAULTS } from '../defaults.js'
import { InvalidOptionError } from '../errors.js'
import { integerAtLeast, positiveNumber } from '../option-checks.js'

/**
 * When the trend verdict says "growing". Defaults assume the sampler's 5 s interval; with a
 * shorter window, sample more often (the demo uses a 60 s window and 1 s samples).
 */
export interface TrendThresholds {
  /**
   * Only samples from the last `windowMs` count.
   * @defaultValue `600000` (10 minutes)
   */
  windowMs?: number
  /**
   * The samples must span at least this long, else `insufficient-data`.
   * @defaultValue `0.5 × windowMs`
   */
  minSpanMs?: number
  /**
   * Fewest samples in the window (and in its newer half, for a leak that started inside it).
   * @defaultValue `10`
   */
  minSamples?: number
  /**
   * Slowest growth worth reporting, in bytes per minute, after subtracting the rate at which
   * garbage was promoted into the old generation during the last full GC cycle.
   * @defaultValue `262144` (256 KiB/min = 15 MiB/hour)
   */
  minSlopeBytesPerMinute?: number
  /**
   * Smallest rise over the fitted span relative to the level at its start (0.05 = 5%). Measured
   * here: steady traffic on a 13 MB heap promotes garbage at 0.6 MB/min between major GCs, 4.6% in
   * a 60 s window; a leak of 3.5 MB/min on the same service rises 27%.
   * @defaultValue `0.05`
   */
  minRelativeGrowth?: number
  /**
   * Smallest share of sample pairs agreeing on the rise (see `SlopeFit.confidence`): noise gives
   * 0.5; a one-off step gives at most 0.75, a steady rise close to 1.
   * @defaultValue `0.8`
   */
  minConfidence?: number
}

export type ResolvedTrendThresholds = Required<TrendThresholds>

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
