import type { TimedValue } from '../types/trend.js'

/** Major GCs closer than this belong to one GC event (V8 often runs two in a row, measured 0.5-1.5 s apart). */
export const GC_EVENT_MS = 3000
/** Fewest major GC events in the window for what they leave behind alone to confirm a leak. */
export const MIN_TROUGHS = 3

/** Major GCs grouped into events (V8 often runs two in a row), each at its first GC's time with the lowest heap. */
export function gcEvents (majors: readonly TimedValue[], gapMs = GC_EVENT_MS): TimedValue[] {
  const grouped: TimedValue[] = []
  for (const p of majors) {
    const last = grouped.at(-1)
    if (last !== undefined && p.t - last.t < gapMs) last.v = Math.min(last.v, p.v)
    else grouped.push({ ...p })
  }
  return grouped
}
