import { getHeapStatistics } from 'node:v8'
import type { FastifyInstance } from 'fastify'
import { openCgroupProbe } from './cgroup.js'
import { diagnosticsErrorHandler } from './error-handler.js'
import { createGcRecorder } from './gc-recorder.js'
import type { GcKind } from './gc-recorder.js'
import { createMemoryProbe } from './memory-probe.js'
import { registerMetrics } from './metrics.js'
import type { DiagnosticsMetrics } from './metrics.js'
import { resolveOptions } from './options.js'
import type { MemoryDiagnosticsOptions } from './options.js'
import { createRouteGuards } from './route-guards.js'
import { gcStatsRoute } from './routes/gc-stats.js'
import { heapSnapshotRoutes } from './routes/heap-snapshot.js'
import { createTrendMonitor } from './trend/monitor.js'
import { memoryRoute } from './routes/memory.js'
import { metricsRoute } from './routes/metrics.js'
import { createSnapshotStore, prepareSnapshotDir } from './snapshot-store.js'
import { createSnapshotTaker } from './snapshot-taker.js'

export async function memoryDiagnosticsPlugin (instance: FastifyInstance, opts: MemoryDiagnosticsOptions): Promise<void> {
  const options = resolveOptions(opts)
  const snapshotDir = prepareSnapshotDir(options.snapshot.dir)
  if (options.auth === false) {
    instance.addHook('onReady', async function warnOpen () {
      instance.log.warn('fastify-memory-diagnostics: auth is disabled (`auth: false`): anyone who can reach these routes can read this process\'s memory figures')
    })
  }
  if (!options.snapshot.guard) {
    instance.addHook('onReady', async function warnUnguarded () {
      instance.log.warn('fastify-memory-diagnostics: the heap snapshot headroom guard is disabled (`snapshot.guard: false`): a snapshot that does not fit in memory gets this process killed by the OOM killer, without error or log')
    })
  }
  const rateLimits = Object.values(options.rateLimit)
  const guards = await createRouteGuards(instance, options.auth, rateLimits.some((limit) => limit !== false))

  const cgroup = openCgroupProbe(options.cgroup.root, options.cgroup.procSelfCgroup)
  const probe = createMemoryProbe(cgroup)
  const trend = createTrendMonitor({
    ...options.trend,
    readLimits () {
      const container = cgroup.read()
      return { heapLimitBytes: getHeapStatistics().heap_size_limit, containerLimitBytes: container.limitBytes, containerUsageBytes: container.usageBytes }
    }
  })
  let metrics: DiagnosticsMetrics | null = null
  const recorder = createGcRecorder({
    windowMs: options.gc.windowMs,
    onEntry (kind: GcKind, durationMs: number) {
      trend.recordGc(kind === 'major')
      metrics?.observeGcPause(kind, durationMs)
    }
  })
  const { maxFiles, maxAgeMs } = options.snapshot
  const store = createSnapshotStore({ dir: snapshotDir, maxFiles, maxAgeMs })
  const taker = createSnapshotTaker({ store, cgroup, settings: options.snapshot })
  taker.applyRetention(instance.log)
  function stopBackground (): void {
    recorder.stop()
    trend.stop()
    cgroup.close()
  }
  instance.addHook('onClose', async function stopDiagnostics () {
    await taker.idle()
    stopBackground()
    taker.applyRetention(instance.log)
  })

  if (options.metrics !== null) {
    try {
      metrics = await registerMetrics(options.metrics.registry, { cgroup, trend })
    } catch (error) {
      // a failed registration never reaches onClose: stop what was started here
      stopBackground()
      throw error
    }
  }

  instance.setErrorHandler(diagnosticsErrorHandler)
  memoryRoute(instance, { probe, guards, rateLimit: options.rateLimit.memory, snapshotStatus: taker.status, trendReport: trend.report })
  heapSnapshotRoutes(instance, {
    taker,
    store,
    guards,
    takeSnapshotLimit: options.rateLimit.takeSnapshot,
    snapshotFilesLimit: options.rateLimit.snapshotFiles,
    metrics
  })
  gcStatsRoute(instance, { recorder, guards, rateLimit: options.rateLimit.gcStats })
  if (options.metrics?.route === true) {
    metricsRoute(instance, {
      registry: options.metrics.registry,
      onRequest: guards.onRequest(options.rateLimit.metrics, { open: !options.metrics.auth })
    })
  }
}
