import { createProcessStatusReader } from '../process-status.js'
import type { ProcessStatus } from '../process-status.js'
import type { TimedValue } from '../types/trend.js'

/** The fields of a periodic sample the verdict reads (`rssAnon` and `threads` where /proc exists). */
export const SAMPLED_FIELDS = ['heapUsed', 'heapTotal', 'heapFloor', 'rss', 'external', 'rssAnon', 'threads'] as const
export type SampledField = typeof SAMPLED_FIELDS[number]

export interface MemorySamplerOptions {
  /** Time between two samples, in milliseconds (checked by the options gate). */
  intervalMs: number
  /** How much history the periodic samples keep, in milliseconds: `ceil(capacityMs / intervalMs)` samples. */
  capacityMs: number
  /**
   * How many major-GC readings to keep. 512 covers hours of a quiet service and, at a major GC
   * a second, the 10-minute window of a busy one.
   * @defaultValue `512`
   */
  majorGcCapacity?: number
  /** The clock of every timestamp, in milliseconds. @defaultValue `Date.now` */
  now?: () => number
  /** Where the figures come from; only tests change it. @defaultValue `process.memoryUsage` */
  readMemory?: () => NodeJS.MemoryUsage
  /** The kernel's view of the process; only tests change it. @defaultValue `/proc/self/status` */
  readStatus?: () => ProcessStatus | null
  /** Called after each periodic sample (to judge the trend off the request path). */
  onSample?: () => void
}

export interface MemorySampler {
  readonly capacity: number
  /** Takes a sample now, outside the timer's rhythm (the timer calls it too). */
  sample (): void
  /**
   * Notes the heap used right after a GC: the lowest since the last sample becomes that sample's
   * `heapFloor`, and after a major GC it is also kept on its own.
   */
  recordGc (major: boolean, heapUsed: number): void
  /** One field of the periodic samples with `t >= sinceMs`, oldest first (samples without a GC have no `heapFloor`, without /proc no `rssAnon` or `threads`). */
  series (field: SampledField, sinceMs?: number): TimedValue[]
  /** The heap right after each major GC with `t >= sinceMs`, oldest first. */
  majorGcSeries (sinceMs?: number): TimedValue[]
  stop (): void
}

/**
 * Samples `process.memoryUsage()` every `intervalMs` (first sample at creation) into rings of
 * typed arrays, and the heap right after GCs as the GC observer reports them. The timer is
 * unref'd: it never keeps the process alive.
 */
export function createMemorySampler (options: MemorySamplerOptions): MemorySampler {
  const now = options.now ?? Date.now
  const readMemory = options.readMemory ?? (() => process.memoryUsage())
  const readStatus = options.readStatus ?? createProcessStatusReader()
  const periodic = createRing(Math.ceil(options.capacityMs / options.intervalMs), SAMPLED_FIELDS)
  const majors = createRing(options.majorGcCapacity ?? 512, ['heapUsed'] as const)
  let floorSinceSample = Infinity

  function sample (): void {
    const usage = readMemory()
    const status = readStatus()
    const slot = periodic.claim(now())
    periodic.columns.heapUsed[slot] = usage.heapUsed
    periodic.columns.heapTotal[slot] = usage.heapTotal
    periodic.columns.heapFloor[slot] = Number.isFinite(floorSinceSample) ? floorSinceSample : Number.NaN
    periodic.columns.rss[slot] = usage.rss
    periodic.columns.external[slot] = usage.external
    periodic.columns.rssAnon[slot] = status?.rssAnonBytes ?? Number.NaN
    periodic.columns.threads[slot] = status?.threads ?? Number.NaN
    floorSinceSample = Infinity
  }

  function sampleQuietly (): void {
    // A throw in a timer callback would crash the host application; a missed sample is a gap
    // the trend tolerates.
    try {
      sample()
      options.onSample?.()
    } catch {}
  }

  sample()
  const timer = setInterval(sampleQuietly, options.intervalMs)
  timer.unref()

  return {
    capacity: periodic.capacity,
    sample,
    recordGc (major, heapUsed) {
      if (heapUsed < floorSinceSample) floorSinceSample = heapUsed
      if (major) majors.columns.heapUsed[majors.claim(now())] = heapUsed
    },
    series (field, sinceMs = -Infinity) {
      const column = periodic.columns[field]
      return periodic.read(sinceMs, (slot, t) => ({ t, v: column[slot]! })).filter((p) => !Number.isNaN(p.v))
    },
    majorGcSeries (sinceMs = -Infinity) {
      return majors.read(sinceMs, (slot, t) => ({ t, v: majors.columns.heapUsed[slot]! }))
    },
    stop () {
      clearInterval(timer)
    }
  }
}

interface Ring<Field extends string> {
  readonly capacity: number
  readonly columns: Readonly<Record<Field, Float64Array>>
  /** Reserves the slot for a new entry (overwriting the oldest when full) and returns its index. */
  claim (timestamp: number): number
  /** Builds one item per entry with `timestamp >= sinceMs`, oldest first. */
  read<T> (sinceMs: number, build: (slot: number, timestamp: number) => T): T[]
}

/** Parallel typed-array columns sharing one write position: a ring of records without objects. */
function createRing<Field extends string> (capacity: number, fields: readonly Field[]): Ring<Field> {
  const timestamps = new Float64Array(capacity)
  const columns = Object.fromEntries(fields.map((field) => [field, new Float64Array(capacity)])) as Record<Field, Float64Array>
  let next = 0
  let size = 0

  return {
    capacity,
    columns,
    claim (timestamp) {
      const slot = next
      timestamps[slot] = timestamp
      next = (next + 1) % capacity
      if (size < capacity) size++
      return slot
    },
    read (sinceMs, build) {
      const oldest = size < capacity ? 0 : next
      const items = []
      for (let k = 0; k < size; k++) {
        const slot = (oldest + k) % capacity
        const timestamp = timestamps[slot]!
        if (timestamp >= sinceMs) items.push(build(slot, timestamp))
      }
      return items
    }
  }
}
