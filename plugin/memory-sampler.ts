import { InvalidOptionError } from './errors.js'
import type { TimedValue } from './trend.js'

/** One periodic reading of `process.memoryUsage()`, all in bytes; `timestamp` in ms on the sampler's clock. */
export interface MemorySample {
  timestamp: number
  heapUsed: number
  heapTotal: number
  rss: number
  external: number
  arrayBuffers: number
}

/** The heap used right after a major GC. */
export interface PostGcSample {
  timestamp: number
  heapUsed: number
}

export type MemoryField = Exclude<keyof MemorySample, 'timestamp'>

export interface MemorySamplerOptions {
  /**
   * Time between two samples, in milliseconds.
   * @defaultValue `5000`
   */
  intervalMs?: number
  /**
   * How much history the periodic samples keep, in milliseconds: the ring holds
   * `ceil(capacityMs / intervalMs)` samples (720 by default, 48 bytes each).
   * @defaultValue `3600000` (one hour)
   */
  capacityMs?: number
  /**
   * How many post-GC heap readings to keep. Major GCs come at no fixed pace; 2048 covers the
   * 10-minute leak window even at three major GCs per second.
   * @defaultValue `2048`
   */
  postGcCapacity?: number
  /**
   * The clock that timestamps periodic samples, in milliseconds. Post-GC readings come with
   * their own timestamps, which must use the same clock.
   * @defaultValue `Date.now`
   */
  now?: () => number
  /**
   * Where the figures come from; only tests need to change it.
   * @defaultValue `process.memoryUsage`
   */
  readMemory?: () => NodeJS.MemoryUsage
  /** Called after each periodic sample (e.g. to judge the trend off the request path). */
  onSample?: () => void
}

export interface MemorySampler {
  /** Samples kept by the periodic ring: `ceil(capacityMs / intervalMs)`. */
  readonly capacity: number
  readonly intervalMs: number
  /** Takes a sample now, outside the timer's rhythm (the timer calls it too). */
  sample (): void
  /** Stores the heap used right after a major GC; meant for the GC observer. */
  recordPostGcHeap (timestamp: number, heapUsed: number): void
  /** Periodic samples with `timestamp >= sinceMs`, oldest first. */
  samples (sinceMs?: number): MemorySample[]
  /** Post-GC readings with `timestamp >= sinceMs`, oldest first. */
  postGcSamples (sinceMs?: number): PostGcSample[]
  /** One field of the periodic samples as `{ t, v }` points, as the trend functions take them. */
  series (field: MemoryField, sinceMs?: number): TimedValue[]
  /** The post-GC heap as `{ t, v }` points. */
  postGcSeries (sinceMs?: number): TimedValue[]
  /** Clears the timer; the samples stay readable. */
  stop (): void
}

const MEMORY_FIELDS = ['heapUsed', 'heapTotal', 'rss', 'external', 'arrayBuffers'] as const satisfies readonly MemoryField[]

/**
 * Samples `process.memoryUsage()` every `intervalMs` (first sample at creation) into fixed-size
 * rings of typed arrays, so recording allocates nothing but the object `process.memoryUsage()`
 * itself returns. The timer is unref'd: it never keeps the process alive.
 */
export function createMemorySampler (options: MemorySamplerOptions = {}): MemorySampler {
  const intervalMs = positiveInteger('intervalMs', options.intervalMs, 5000)
  const capacityMs = positiveInteger('capacityMs', options.capacityMs, 3_600_000)
  if (capacityMs < intervalMs) {
    throw new InvalidOptionError(`memory sampler: capacityMs (${capacityMs}) must be at least intervalMs (${intervalMs})`)
  }
  const postGcCapacity = positiveInteger('postGcCapacity', options.postGcCapacity, 2048)
  const now = options.now ?? Date.now
  const readMemory = options.readMemory ?? (() => process.memoryUsage())

  const periodic = createRing(Math.ceil(capacityMs / intervalMs), MEMORY_FIELDS)
  const postGc = createRing(postGcCapacity, ['heapUsed'] as const)

  function sample (): void {
    const usage = readMemory()
    const slot = periodic.claim(now())
    for (const field of MEMORY_FIELDS) periodic.columns[field][slot] = usage[field]
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
  const timer = setInterval(sampleQuietly, intervalMs)
  timer.unref()

  return {
    capacity: periodic.capacity,
    intervalMs,
    sample,
    recordPostGcHeap (timestamp, heapUsed) {
      postGc.columns.heapUsed[postGc.claim(timestamp)] = heapUsed
    },
    samples (sinceMs = -Infinity) {
      return periodic.read(sinceMs, (slot, timestamp) => {
        const { heapUsed, heapTotal, rss, external, arrayBuffers } = periodic.columns
        return { timestamp, heapUsed: heapUsed[slot]!, heapTotal: heapTotal[slot]!, rss: rss[slot]!, external: external[slot]!, arrayBuffers: arrayBuffers[slot]! }
      })
    },
    postGcSamples (sinceMs = -Infinity) {
      return postGc.read(sinceMs, (slot, timestamp) => ({ timestamp, heapUsed: postGc.columns.heapUsed[slot]! }))
    },
    series (field, sinceMs = -Infinity) {
      const column = periodic.columns[field]
      return periodic.read(sinceMs, (slot, t) => ({ t, v: column[slot]! }))
    },
    postGcSeries (sinceMs = -Infinity) {
      return postGc.read(sinceMs, (slot, t) => ({ t, v: postGc.columns.heapUsed[slot]! }))
    },
    stop () {
      clearInterval(timer)
    }
  }
}

function positiveInteger (name: string, value: number | undefined, defaultValue: number): number {
  if (value === undefined) return defaultValue
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(`memory sampler: ${name} must be a positive integer, got ${String(value)}`)
  }
  return value
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
