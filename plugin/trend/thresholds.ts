import { InvalidOptionError } from '../errors.js'

const KIB = 1024

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

export const TREND_DEFAULTS = {
  windowMs: 600_000,
  minSpanFraction: 0.5,
  minSamples: 10,
  minSlopeBytesPerMinute: 256 * KIB,
  minRelativeGrowth: 0.05,
  minConfidence: 0.8
} as const

/** Checks the thresholds and fills in the defaults; never mutates its argument. Called once, by the options gate. */
export function resolveTrendThresholds (thresholds: TrendThresholds = {}): ResolvedTrendThresholds {
  const windowMs = positive('windowMs', thresholds.windowMs, TREND_DEFAULTS.windowMs)
  const resolved: ResolvedTrendThresholds = {
    windowMs,
    minSpanMs: positive('minSpanMs', thresholds.minSpanMs, TREND_DEFAULTS.minSpanFraction * windowMs),
    minSamples: atLeastThree('minSamples', thresholds.minSamples, TREND_DEFAULTS.minSamples),
    minSlopeBytesPerMinute: positive('minSlopeBytesPerMinute', thresholds.minSlopeBytesPerMinute, TREND_DEFAULTS.minSlopeBytesPerMinute),
    minRelativeGrowth: positive('minRelativeGrowth', thresholds.minRelativeGrowth, TREND_DEFAULTS.minRelativeGrowth),
    minConfidence: positive('minConfidence', thresholds.minConfidence, TREND_DEFAULTS.minConfidence)
  }
  if (resolved.minSpanMs > windowMs) {
    throw new InvalidOptionError(`\`trend.thresholds.minSpanMs\` (${resolved.minSpanMs}) cannot exceed \`windowMs\` (${windowMs})`)
  }
  if (resolved.minConfidence <= 0.5 || resolved.minConfidence > 1) {
    throw new InvalidOptionError(`\`trend.thresholds.minConfidence\` must be in (0.5, 1] (0.5 is what noise gives), got ${resolved.minConfidence}`)
  }
  return resolved
}

function positive (name: string, value: unknown, defaultValue: number): number {
  if (value === undefined) return defaultValue
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`\`trend.thresholds.${name}\` must be a positive finite number, got ${String(value)}`)
  }
  return value
}

function atLeastThree (name: string, value: unknown, defaultValue: number): number {
  if (value === undefined) return defaultValue
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 3) {
    throw new InvalidOptionError(`\`trend.thresholds.${name}\` must be an integer >= 3, got ${String(value)}`)
  }
  return value
}
