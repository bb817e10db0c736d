import type { FastifyInstance } from 'fastify'
import type { GcRecorder } from '../gc-recorder.js'
import { guardedRoute } from '../guarded-route.js'
import type { RouteGuards } from '../route-guards.js'
import { gcStatsResponse } from '../schemas.js'
import type { RouteRateLimit } from '../types/options.js'

export interface GcStatsRouteOptions {
  recorder: GcRecorder
  guards: RouteGuards
  rateLimit: RouteRateLimit | false
}

export function gcStatsRoute (instance: FastifyInstance, { recorder, guards, rateLimit }: GcStatsRouteOptions): void {
  instance.get('/gc-stats', guardedRoute(guards.onRequest(rateLimit), { response: { 200: gcStatsResponse } }), async () => recorder.stats())
}
