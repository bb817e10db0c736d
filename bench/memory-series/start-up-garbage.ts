import type { MemorySeries } from './replay.js'

export interface StartUpGarbage {
  /** One-off garbage on the heap's floor until the major GC that reclaims it. */
  extraBytes: number
  /** When that major GC runs, ms after the load started. */
  collectedAtMs: number
}

/**
 * A recorded series as it would read had the process carried one-off garbage (modules compiled,
 * caches built at start-up) until a major GC early in the load: the floor higher by `extraBytes`
 * before it, and that GC among the major GCs. The GC's cycle then teaches the verdict a garbage
 * rate that overshoots the next cycle's (measured live on Node 24, where a leak read "steady").
 */
export function withStartUpGarbage (series: MemorySeries, { extraBytes, collectedAtMs }: StartUpGarbage): MemorySeries {
  const at = series.loadStartedAtMs + collectedAtMs
  // The garbage's pages stay committed after the GC (V8 keeps them for a while): RSS, heapTotal and
  // anonymous memory are higher by it all along, heapUsed and its floor only until the GC.
  const samples = series.samples.map((row): MemorySeries['samples'][number] => {
    const [t, heapUsed, rss, external, arrayBuffers, floor, majors, heapTotal, anonymous, threads] = row
    const before = t < at ? extraBytes : 0
    return [t, heapUsed + before, rss + extraBytes, external, arrayBuffers, floor === null ? null : floor + before, majors,
      ...(heapTotal === undefined ? [] : [heapTotal + extraBytes, anonymous == null ? anonymous : anonymous + extraBytes, threads])] as MemorySeries['samples'][number]
  })
  const first = samples.find(([t]) => t >= at)
  if (first === undefined) throw new Error(`${series.name} ends before ${collectedAtMs} ms of load`)
  const majorGcs = [...series.majorGcs.filter(([t]) => Math.abs(t - at) > 1000), [first[0] - 1, first[5] ?? first[1]] as [number, number]]
    .sort((a, b) => a[0] - b[0])
  return { ...series, name: `${series.name} with start-up garbage`, samples, majorGcs }
}
