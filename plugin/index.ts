import fastifyPlugin from 'fastify-plugin'
import { memoryDiagnosticsPlugin } from './memory-diagnostics.js'

export { errorCodes } from './errors.js'
export type { ErrorBody } from './error-handler.js'
export type {
  AuthOptions,
  AuthStrategy,
  GcOptions,
  MemoryDiagnosticsOptions,
  MetricsOptions,
  MetricsRegistry,
  RateLimitOptions,
  RouteRateLimit,
  SnapshotOptions,
  TrendOptions,
  TrendThresholds
} from './types/options.js'
export type { HeapTrend, MemoryLimit, SeriesTrend, TimeToLimit, TrendReport, TrendVerdict } from './types/trend.js'
export type { MemoryReport } from './routes/memory.js'
export type { ContainerMemory } from './cgroup.js'
export type { GcStats, GcPeriod, PauseStats, GcKind } from './gc-recorder.js'
export type { MemoryReading, SystemMemory } from './memory-probe.js'
export type { HeadroomSource, HeadroomVerdict } from './snapshot/headroom.js'
export type { SnapshotStatus } from './snapshot/lifecycle.js'
export type { EstimateBasis, SnapshotEstimate } from './snapshot/cost-model.js'
export type { RetainedMemory, Allocator } from './snapshot/retained.js'
export type { WrittenSnapshot } from './snapshot/writer.js'
export type { SnapshotCost } from './snapshot/peak-rss.js'

/** Secured routes to hunt memory leaks in production. See the README for the contract. */
export const memoryDiagnostics = fastifyPlugin(memoryDiagnosticsPlugin, {
  name: 'fastify-memory-diagnostics',
  fastify: '5.x',
  encapsulate: true
})

export default memoryDiagnostics
