import type { FastifyInstance } from 'fastify'
import { routeOptions } from '../route-options.js'
import type { MemoryProbe } from '../memory-probe.js'
import type { RouteAccess } from '../route-access.js'
import { memoryResponse } from '../schemas.js'
import type { SnapshotLifecycle } from '../snapshot/lifecycle.js'
import type { RouteRateLimit } from '../types/options.js'
import type { HeapProfileStatus, MemoryReport } from '../types/reports.js'
import type { TrendReport } from '../types/trend.js'

export interface MemoryRouteOptions {
  probe: MemoryProbe
  access: RouteAccess
  rateLimit: RouteRateLimit | false
  /** Whether a heap snapshot would be allowed, from the same figures as the rest of the answer. */
  snapshotStatus: SnapshotLifecycle['status']
  /** The trend verdict judged at the last memory sample. */
  trendReport: () => TrendReport
  /** The sampling heap profiler's state. */
  heapProfileStatus: () => HeapProfileStatus
}

export function memoryRoute (instance: FastifyInstance, { probe, access, rateLimit, snapshotStatus, trendReport, heapProfileStatus }: MemoryRouteOptions): void {
  instance.get('/memory', routeOptions(access.onRequest(rateLimit), { response: { 200: memoryResponse } }), async (): Promise<MemoryReport> => {
    const reading = probe.read()
    const snapshot = snapshotStatus({
      heapUsedBytes: reading.process.heapUsed,
      container: reading.container,
      systemAvailableBytes: reading.system.availableBytes,
      rssBytes: reading.process.rss
    })
    return { ...reading, snapshot, heapProfile: heapProfileStatus(), trend: trendReport() }
  })
}
