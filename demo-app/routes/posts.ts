import type { FastifyInstance } from 'fastify'
import type { TenantConnections } from '../tenants/tenant-connections.js'
import { createPostRoute, errorResponse, postResponse, tenantName, toPostAnswer } from './post-http.js'

export const LIST_LIMIT_DEFAULT = 20
export const LIST_LIMIT_MAX = 100

const listQuery = {
  type: 'object',
  required: ['tenant'],
  properties: {
    tenant: tenantName,
    limit: { type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT }
  },
  propertyNames: { enum: ['tenant', 'limit'] }
} as const

/** `POST /posts` and `GET /posts`: the correct multi-tenant setup. */
export function postsRoutes (instance: FastifyInstance, { tenants }: { tenants: TenantConnections }): void {
  createPostRoute(instance, '/posts', (tenant) => tenants.postModel(tenant))

  instance.get<{ Querystring: { tenant: string, limit: number } }>('/posts', {
    schema: {
      querystring: listQuery,
      response: {
        200: {
          type: 'object',
          required: ['tenant', 'posts'],
          properties: { tenant: { type: 'string' }, posts: { type: 'array', items: postResponse } }
        },
        400: errorResponse
      }
    }
  }, async function listPosts (request) {
    const { tenant, limit } = request.query
    const posts = await tenants.postModel(tenant)
      .find({}, { title: 1, author: 1, createdAt: 1 })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean()
    return { tenant, posts: posts.map((post) => toPostAnswer(tenant, post)) }
  })
}
