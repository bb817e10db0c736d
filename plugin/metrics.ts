import { performance } from 'node:perf_hooks'
import type { CgroupProbe } from './cgroup.js'
import { unexplainedBytes } from './memory-probe.js'
import { createProcessStatusReader } from './process-status.js'
import type { GcKind } from './types/reports.js'
import type { TrendMonitor } from './trend/monitor.js'
import { TREND_VERDICTS } from './types/trend.js'
import type { MetricsRegistry } from './types/options.js'

export type SnapshotRefusal = 'headroom' | 'in_progress' | 'rate_limited'

export interface DiagnosticsMetrics {
  observeGcPause (kind: GcKind, durationMs: number): void
  snapshotTaken (): void
  snapshotRefused (reason: SnapshotRefusal): void
  /** Removes every metric registered here from the registry (at close: their sources are closed). */
  unregister (): void
}

export interface MetricsSources {
  cgroup: CgroupProbe
  trend: TrendMonitor
}

const REFUSALS: SnapshotRefusal[] = ['headroom', 'in_progress', 'rate_limited']
// From 0.1 ms (a scavenge of a small young generation) to 5 s (a full GC of a multi-GB heap).
const GC_PAUSE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * Registers the `memdiag_*` metrics on the application's registry (prefixed so they never clash
 * with prom-client's default `nodejs_*` ones). Gauges are read at scrape time; GC pauses and
 * snapshot outcomes are counted as they happen. If one cannot be registered (its name is taken),
 * those registered before it are removed again and the error is thrown.
 */
export async function registerMetrics (registry: MetricsRegistry, sources: MetricsSources): Promise<DiagnosticsMetrics> {
  const client = await import('prom-client')
  const registered: string[] = []
  const unregister = () => {
    for (const name of registered.splice(0)) registry.removeSingleMetric(name)
  }
  try {
    return defineMetrics(client, registry, sources, registered, unregister)
  } catch (error) {
    unregister()
    throw error
  }
}

function defineMetrics (
  client: typeof import('prom-client'),
  registry: MetricsRegistry,
  { cgroup, trend }: MetricsSources,
  registered: string[],
  unregister: () => void
): DiagnosticsMetrics {
  // Wraps the application's registry: every metric created through it is remembered for unregister().
  const owner = {
    registerMetric (metric: { name: string }) {
      (registry as unknown as import('prom-client').Registry).registerMetric(metric as never)
      registered.push(metric.name)
    }
  }
  const registers = [owner as unknown as import('prom-client').Registry]

  const gauge = (name: string, help: string, read: () => number | null) => new client.Gauge({
    name,
    help,
    registers,
    collect () {
      const value = read()
      if (value === null) this.reset()
      else this.set(value)
    }
  })

  gauge('memdiag_heap_used_bytes', 'V8 heap used (process.memoryUsage().heapUsed).', () => process.memoryUsage().heapUsed)
  gauge('memdiag_heap_total_bytes', 'V8 heap reserved (process.memoryUsage().heapTotal).', () => process.memoryUsage().heapTotal)
  gauge('memdiag_process_resident_memory_bytes', 'Resident set size of the process.', () => process.memoryUsage.rss())
  gauge('memdiag_external_memory_bytes', 'Memory of C++ objects bound to JS objects, including array buffers.', () => process.memoryUsage().external)
  gauge('memdiag_array_buffers_bytes', 'Memory of ArrayBuffers and Buffers (process.memoryUsage().arrayBuffers), part of external.', () => process.memoryUsage().arrayBuffers)
  // One read of /proc/self/status per scrape, not one per gauge that shows a field of it.
  const status = readOncePerScrape(createProcessStatusReader())
  gauge('memdiag_resident_anonymous_bytes', 'Resident anonymous memory (RssAnon of /proc/self/status; absent without /proc).', () => status()?.rssAnonBytes ?? null)
  gauge('memdiag_resident_file_bytes', 'Resident file-backed memory (RssFile of /proc/self/status; absent without /proc).', () => status()?.rssFileBytes ?? null)
  gauge('memdiag_threads', 'Threads of the process (absent without /proc).', () => status()?.threads ?? null)
  gauge('memdiag_unexplained_memory_bytes', 'Resident memory no counter explains: anonymous RSS minus the heap\'s committed size and external (a native library, WebAssembly memory, threads).', () => unexplainedBytes(process.memoryUsage(), status()))
  gauge('memdiag_unexplained_growth_bytes_per_minute', 'Theil-Sen slope of the unexplained memory over the trend window.', () => trend.report().outsideHeap.slopeBytesPerMinute)
  gauge('memdiag_heap_used_after_gc_bytes', 'V8 heap used right after the last major GC: what survives.', () => trend.lastMajorGcHeapBytes())
  gauge('memdiag_container_memory_limit_bytes', 'Memory limit of the cgroup (absent when there is none).', () => cgroup.read().limitBytes)
  gauge('memdiag_container_memory_usage_bytes', 'Memory usage of the cgroup, as the OOM killer counts it.', () => cgroup.read().usageBytes)
  gauge('memdiag_heap_growth_bytes_per_minute', 'Theil-Sen slope of the heap after GCs (garbage promotion discounted) over the trend window.', () => trend.report().heap.slopeBytesPerMinute)
  gauge('memdiag_rss_growth_bytes_per_minute', 'Theil-Sen slope of the RSS over the trend window.', () => trend.report().rss.slopeBytesPerMinute)
  // Labelled by the limit that comes first, so that it can be absent: prom-client resets an
  // unlabelled gauge to 0, which would read as "the limit is reached now".
  // eslint-disable-next-line no-new -- registered on the registry, read at scrape time
  new client.Gauge({
    name: 'memdiag_time_to_memory_limit_seconds',
    help: 'While the leak verdict is growing-*, the estimated time until the container or heap limit (label limit: the first one reached) at the current growth rate; absent otherwise.',
    labelNames: ['limit'],
    registers,
    collect () {
      this.reset()
      const estimate = trend.report().timeToLimit
      if (estimate !== null) this.set({ limit: estimate.limit }, estimate.seconds)
    }
  })
  // eslint-disable-next-line no-new -- registered on the registry, read at scrape time
  new client.Gauge({
    name: 'memdiag_leak_verdict',
    help: 'The leak verdict of GET /memory: 1 for the current verdict, 0 for the others.',
    labelNames: ['verdict'],
    registers,
    collect () {
      const current = trend.report().verdict
      for (const verdict of TREND_VERDICTS) this.set({ verdict }, verdict === current ? 1 : 0)
    }
  })

  const pauses = new client.Histogram({
    name: 'memdiag_gc_pause_seconds',
    help: 'Garbage collection pauses, by kind.',
    labelNames: ['kind'],
    buckets: GC_PAUSE_BUCKETS,
    registers
  })
  const taken = new client.Counter({ name: 'memdiag_snapshots_taken_total', help: 'Heap snapshots written.', registers })
  const refused = new client.Counter({ name: 'memdiag_snapshots_refused_total', help: 'Heap snapshot requests refused, by reason.', labelNames: ['reason'], registers })
  // Zero from the start, so that increase() sees the very first refusal.
  for (const reason of REFUSALS) refused.inc({ reason }, 0)

  return {
    observeGcPause: (kind, durationMs) => pauses.observe({ kind }, durationMs / 1000),
    snapshotTaken: () => taken.inc(),
    snapshotRefused: (reason) => refused.inc({ reason }),
    unregister
  }
}

const SCRAPE_MS = 100

/** The reading of `read`, taken again only when the last one is older than a scrape takes. */
function readOncePerScrape<T> (read: () => T): () => T {
  let takenAt = -Infinity
  let value: T
  return () => {
    const now = performance.now()
    if (now - takenAt > SCRAPE_MS) {
      value = read()
      takenAt = now
    }
    return value
  }
}
