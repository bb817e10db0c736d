import { getHeapStatistics } from 'node:v8'
import type { FastifyInstance } from 'fastify'
import { openCgroupProbe } from './cgroup.js'
import { diagnosticsErrorHandler } from './error-handler.js'
import { createCapturer } from './capture/capturer.js'
import type { Capturer } from './capture/capturer.js'
import { snapshotBudget } from './capture/policy.js'
import { captureUploads } from './capture/sink.js'
import { createGcRecorder } from './gc-recorder.js'
import { InvalidOptionError } from './errors.js'
import { createHandlerLocations } from './heap-profile/handler-locations.js'
import { profileDocument } from './heap-profile/profile-document.js'
import { createHeapProfiler } from './heap-profile/profiler.js'
import { inspectorAvailable, postInspector } from './inspector-session.js'
import type { GcKind } from './types/reports.js'
import { createMemoryProbe } from './memory-probe.js'
import { registerMetrics } from './metrics.js'
import type { DiagnosticsMetrics } from './metrics.js'
import { resolveOptions } from './options.js'
import { createRequestCounter } from './request-counter.js'
import { createRouteAccess } from './route-access.js'
import { gcStatsRoute } from './routes/gc-stats.js'
import { heapProfileRoutes } from './routes/heap-profile.js'
import { heapSnapshotRoutes } from './routes/heap-snapshot.js'
import { incidentRoute } from './routes/incident.js'
import { createTrendMonitor } from './trend/monitor.js'
import { memoryRoute } from './routes/memory.js'
import { metricsRoute } from './routes/metrics.js'
import { notFoundRoutes, recordRoutes } from './routes/not-found.js'
import { heapWriterOf, spanned } from './snapshot/heap-writer.js'
import { createSnapshotLifecycle } from './snapshot/lifecycle.js'
import { createSnapshotStore, prepareSnapshotDir } from './snapshot/store.js'
import type { MemoryDiagnosticsOptions } from './types/options.js'
import { createObjectStore } from './upload/object-store.js'
import type { ObjectStore } from './upload/object-store.js'
import { loadAwsSdk } from './upload/sdk.js'
import { snapshotUpload } from './upload/snapshot-upload.js'

export async function memoryDiagnosticsPlugin (instance: FastifyInstance, opts: MemoryDiagnosticsOptions): Promise<void> {
  const options = resolveOptions(opts)
  const snapshotDir = prepareSnapshotDir(options.snapshot.dir)
  // loaded before anything is started, so that a missing SDK fails registration with nothing to stop
  const sdk = options.upload === null ? null : await loadAwsSdk({ presign: options.upload.presignExpiresSeconds !== null })
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
  const access = await createRouteAccess(instance, {
    auth: options.auth,
    anyRateLimit: Object.values(options.rateLimit).some((limit) => limit !== false),
    failedAuthLimit: options.failedAuthLimit
  })

  const cgroup = openCgroupProbe(options.cgroup.root, options.cgroup.procSelfCgroup)
  const probe = createMemoryProbe(cgroup)
  // set once the snapshot lifecycle it needs exists, below
  let capturer: Capturer | null = null
  const trend = createTrendMonitor({
    ...options.trend,
    onReport: (report) => capturer?.observe(report),
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
  const requestCounter = createRequestCounter(instance, { skip: instance })
  const snapshots = createSnapshotLifecycle({
    store,
    cgroup,
    settings: options.snapshot,
    beforeWrite: () => ({ ...requestCounter.mark() }),
    writeHeap: spanned(heapWriterOf(opts), (span) => trend.recordSnapshot(span)),
    refusalHint: `the sampling heap profile is available: GET ${instance.prefix}/heap-profile (live memory by allocation site, a few MB instead of a snapshot's cost; see docs/heap-profiles.md)`
  })
  const objectStore: ObjectStore | null = sdk === null || options.upload === null ? null : createObjectStore(sdk, options.upload)
  const upload = objectStore === null || options.upload === null
    ? null
    : snapshotUpload({ objectStore, store, removeLocalAfterUpload: options.upload.removeLocalAfterUpload })
  const profiler = createHeapProfiler({ post: postInspector, available: inspectorAvailable() })
  const locateHandlers = createHandlerLocations(postInspector)
  const profileSettings = { intervalBytes: options.heapProfile.intervalBytes, stackDepth: options.heapProfile.stackDepth }
  snapshots.applyRetention(instance.log)
  if (options.capture !== null) {
    const uploads = captureUploads(objectStore, upload, instance.log)
    capturer = createCapturer({
      settings: options.capture,
      budget: snapshotBudget(options.rateLimit.takeSnapshot),
      dir: snapshotDir,
      snapshots,
      ensureSampling: () => !profiler.start(profileSettings),
      readProfile () {
        const { profile, settings, since } = profiler.read()
        return profileDocument({ profile, settings, since, takenAt: new Date(), counts: requestCounter.counts(), handlers: locateHandlers(requestCounter.handlers()), sourceMaps: false })
      },
      readContainer: () => cgroup.read(),
      log: instance.log,
      sink: uploads.profile,
      uploadSnapshot: uploads.snapshot,
      maxFiles,
      maxAgeMs
    })
  }
  let stopped = false
  // Once only: after a failed registration, close() still runs the onClose hook below, and a
  // second close of the cgroup's descriptors could close someone else's file reusing the number.
  function stopBackground (): void {
    if (stopped) return
    stopped = true
    objectStore?.close().catch((error: unknown) => { instance.log.warn({ err: error }, 'fastify-memory-diagnostics: closing the object store client failed') })
    capturer?.stop()
    profiler.stop()
    requestCounter.stop()
    recorder.stop()
    trend.stop()
    cgroup.close()
  }
  instance.addHook('onClose', async function stopDiagnostics () {
    // The metrics read the probes closed below, and the same registry may get a new instance.
    metrics?.unregister()
    capturer?.stop()
    await capturer?.idle()
    // uploads in flight are aborted (their multipart uploads too), so that the lock is released soon
    await objectStore?.close()
    await snapshots.idle()
    stopBackground()
    snapshots.applyRetention(instance.log)
  })

  if (options.metrics !== null) {
    try {
      metrics = await registerMetrics(options.metrics.registry, { cgroup, trend })
    } catch (error) {
      // stopped now, not at close() (if ever): registerMetrics removed what it had added
      stopBackground()
      throw error
    }
  }

  if (options.heapProfile.continuous) {
    try {
      profiler.start(profileSettings)
    } catch (error) {
      stopBackground()
      throw new InvalidOptionError(`\`heapProfile.continuous\` could not start the sampling heap profiler: ${(error as Error).message}`)
    }
  }

  instance.setErrorHandler(diagnosticsErrorHandler)
  const routeTable = recordRoutes(instance)
  memoryRoute(instance, { probe, access, rateLimit: options.rateLimit.memory, snapshotStatus: snapshots.status, trendReport: trend.report, heapProfileStatus: profiler.status })
  heapProfileRoutes(instance, {
    profiler,
    access,
    rateLimit: options.rateLimit.heapProfile,
    defaults: profileSettings,
    objectStore,
    readDocument ({ sourceMaps }) {
      const { profile, settings, since } = profiler.read()
      return profileDocument({ profile, settings, since, takenAt: new Date(), counts: requestCounter.counts(), handlers: locateHandlers(requestCounter.handlers()), sourceMaps })
    }
  })
  heapSnapshotRoutes(instance, {
    snapshots,
    store,
    access,
    sendTimeoutMs: options.snapshot.sendTimeoutMs,
    upload,
    takeSnapshotLimit: options.rateLimit.takeSnapshot,
    snapshotFilesLimit: options.rateLimit.snapshotFiles,
    metrics
  })
  gcStatsRoute(instance, { recorder, access, rateLimit: options.rateLimit.gcStats })
  incidentRoute(instance, {
    access,
    rateLimit: options.rateLimit.snapshotFiles,
    sources: {
      dir: snapshotDir,
      options,
      memory: () => {
        const reading = probe.read()
        return { ...reading, trend: trend.report(), heapProfile: profiler.status() }
      },
      gcStats: () => recorder.stats(),
      trend: () => trend.report(),
      history: () => trend.history(),
      series: () => trend.series(),
      captures: () => capturer?.records() ?? []
    }
  })
  if (options.metrics?.route === true) {
    metricsRoute(instance, {
      registry: options.metrics.registry,
      onRequest: access.onRequest(options.rateLimit.metrics, { open: !options.metrics.auth })
    })
  }
  notFoundRoutes(instance, routeTable)
}
