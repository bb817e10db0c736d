import type { FastifyInstance } from 'fastify'
import type { GcRecorder } from '../gc-recorder.js'
import { routeOptions } from '../route-options.js'
import type { RouteAccess } from '../route-access.js'
import { gcStatsResponse } from '../schemas.js'
import type { RouteRateLimit } from '../types/options.js'

export interface GcStatsRouteOptions {
  recorder: GcRecorder
  access: RouteAccess
  rateLimit: RouteRateLimit | false
}

export function gcStatsRoute (instance: FastifyInstance, { recorder, access, rateLimit }: GcStatsRouteOptions): void {
  instance.get('/gc-stats', routeOptions(access.onRequest(rateLimit), { response: { 200: gcStatsResponse } }), async () => recorder.stats())
}
