import type { Sample } from './sampler.js'

export function formatDuration (seconds: number): string {
  if (seconds >= 86_400) return `${(seconds / 86_400).toFixed(1)} days`
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 60).toFixed(0)} min`
}

/** ", 3 min to the heap limit at this rate" while the verdict is growing, else nothing. */
export function timeToLimitText (sample: Sample): string {
  return sample.timeToLimitSeconds === null ? '' : `, ${formatDuration(sample.timeToLimitSeconds)} to the ${sample.timeToLimit} limit at this rate`
}

/** The plugin's trend verdict of a sample (`GET /memory`), with its time to the limit when growing. */
export function pluginVerdict (sample: Sample): string {
  if (sample.verdict === null) return 'not read'
  return `${sample.verdict}${timeToLimitText(sample)} (${sample.verdictReason ?? ''})`
}
