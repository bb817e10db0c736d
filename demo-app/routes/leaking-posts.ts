import type { FastifyInstance } from 'fastify'
import type { LeakingTenantConnections } from '../tenants/leaking-tenant-connections.js'
import { createPostRoute } from './post-http.js'

/**
 * `POST /leaking-posts`: the same contract as `POST /posts`, written the way that leaked in
 * production. Each request opens a connection (a MongoClient with its own pool, monitor and
 * sockets) and compiles a model on it, and nothing ever closes them.
 */
export function leakingPostsRoutes (instance: FastifyInstance, { tenants }: { tenants: LeakingTenantConnections }): void {
  createPostRoute(instance, '/leaking-posts', (tenant) => tenants.postModel(tenant))
}
