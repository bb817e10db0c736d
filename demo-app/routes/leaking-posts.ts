import type { FastifyInstance } from 'fastify'
import type { LeakingTenantConnections } from '../tenants/leaking-tenant-connections.js'
import { errorResponse, newPostBody, postResponse, toPostAnswer } from './post-http.js'
import type { NewPost, PostAnswer } from './post-http.js'

/**
 * `POST /leaking-posts`: the same contract as `POST /posts`, written the way that leaked in
 * production. Each request opens a connection (a MongoClient with its own pool, monitor and
 * sockets) and compiles a model on it, and nothing ever closes them.
 */
export function leakingPostsRoutes (instance: FastifyInstance, { tenants }: { tenants: LeakingTenantConnections }): void {
  instance.post<{ Body: NewPost }>('/leaking-posts', {
    schema: {
      body: newPostBody,
      response: { 201: postResponse, 400: errorResponse }
    }
  }, async function createPostLeaking (request, reply): Promise<PostAnswer> {
    const { tenant, title, content, author } = request.body
    const post = await tenants.postModel(tenant).create({ title, content, author })
    reply.code(201)
    return toPostAnswer(tenant, post)
  })
}
