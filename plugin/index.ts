import fastifyPlugin from 'fastify-plugin'
import { memoryDiagnosticsPlugin } from './memory-diagnostics.js'

export { errorCodes } from './errors.js'
export type { ErrorBody } from './error-handler.js'
export type {
  AuthOptions,
  AuthStrategy,
  CaptureOptions,
  GcOptions,
  HeapProfileOptions,
  MemoryDiagnosticsOptions,
  MetricsOptions,
  MetricsRegistry,
  RateLimitOptions,
  RedactOptions,
  RouteRateLimit,
  ServerSideEncryption,
  SnapshotOptions,
  TrendOptions,
  TrendThresholds,
  UploadOptions
} from './types/options.js'
export type { HeapTrend, MemoryLimit, SeriesTrend, TimeToLimit, TrendReport, TrendVerdict } from './types/trend.js'
export type {
  Allocator, ContainerMemory, EstimateBasis, GcKind, GcPeriod, GcStats, HeadroomSource, HeadroomVerdict, HeapProfileStatus, MemoryReading,
  MemoryReport, OutsideHeap, PauseStats, ProfilerMemory, RedactionReport, RetainedMemory, SnapshotCost, SnapshotEstimate, SnapshotStatus, SystemMemory, WrittenSnapshot,
  FailedUpload, SnapshotJobState, SnapshotJobStatus, UploadedObject, UploadReport
} from './types/reports.js'

/** Secured routes to hunt memory leaks in production. See the README for the contract. */
export const memoryDiagnostics = fastifyPlugin(memoryDiagnosticsPlugin, {
  name: 'fastify-memory-diagnostics',
  fastify: '5.x',
  encapsulate: true
})

export default memoryDiagnostics
