import type { FastifyInstance } from 'fastify'
import mongoose from 'mongoose'

export interface StatsRouteOptions {
  tenantConnections: () => number
  sessions: { leaking: () => number, bounded: () => number }
}

const count = { type: 'integer' } as const

/**
 * `GET /stats`: counts the load driver prints next to the memory figures it reads through the
 * diagnostics plugin. Demo only, and unauthenticated: it shows counts, never memory.
 */
export function statsRoute (instance: FastifyInstance, { tenantConnections, sessions }: StatsRouteOptions): void {
  instance.get('/stats', {
    schema: {
      response: {
        200: {
          type: 'object',
          required: ['mongooseConnections', 'tenantConnections', 'sessions'],
          properties: {
            mongooseConnections: count,
            tenantConnections: count,
            sessions: { type: 'object', required: ['leaking', 'bounded'], properties: { leaking: count, bounded: count } }
          }
        }
      }
    }
  }, async function readStats () {
    return {
      mongooseConnections: mongoose.connections.length,
      tenantConnections: tenantConnections(),
      sessions: { leaking: sessions.leaking(), bounded: sessions.bounded() }
    }
  })
}
