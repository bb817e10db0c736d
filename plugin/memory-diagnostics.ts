import type { FastifyInstance } from 'fastify'
import { openCgroupProbe } from './cgroup.js'
import { diagnosticsErrorHandler } from './error-handler.js'
import { createGcRecorder } from './gc-recorder.js'
import { createMemoryProbe } from './memory-probe.js'
import { resolveOptions } from './options.js'
import type { MemoryDiagnosticsOptions } from './options.js'
import { createRouteGuards } from './route-guards.js'
import { gcStatsRoute } from './routes/gc-stats.js'
import { memoryRoute } from './routes/memory.js'

export async function memoryDiagnosticsPlugin (instance: FastifyInstance, opts: MemoryDiagnosticsOptions): Promise<void> {
  const options = resolveOptions(opts)
  if (options.auth === false) {
    instance.addHook('onReady', async function warnOpen () {
      instance.log.warn('fastify-memory-diagnostics: auth is disabled (`auth: false`): anyone who can reach these routes can read this process\'s memory figures')
    })
  }
  const rateLimits = Object.values(options.rateLimit)
  const guards = await createRouteGuards(instance, options.auth, rateLimits.some((limit) => limit !== false))

  const cgroup = openCgroupProbe(options.cgroup.root, options.cgroup.procSelfCgroup)
  const probe = createMemoryProbe(cgroup)
  const recorder = createGcRecorder({ windowMs: options.gc.windowMs })
  instance.addHook('onClose', async function stopDiagnostics () {
    recorder.stop()
    cgroup.close()
  })

  instance.setErrorHandler(diagnosticsErrorHandler)
  memoryRoute(instance, { probe, guards, rateLimit: options.rateLimit.memory })
  gcStatsRoute(instance, { recorder, guards, rateLimit: options.rateLimit.gcStats })
}
