import type { FastifyInstance } from 'fastify'
import { AUTHOR_MAX_LENGTH, CONTENT_MAX_LENGTH, TITLE_MAX_LENGTH } from '../post-schema.js'
import type { PostModel } from '../post-schema.js'

/**
 * A tenant is a MongoDB database name, so the names MongoDB keeps for itself are refused
 * (writing a blog post into `admin` is not a feature).
 */
export const tenantName = {
  type: 'string',
  pattern: '^[a-z0-9-]{1,40}$',
  not: { enum: ['admin', 'local', 'config'] }
} as const

const newPostFields = {
  tenant: tenantName,
  title: { type: 'string', minLength: 1, maxLength: TITLE_MAX_LENGTH },
  content: { type: 'string', minLength: 1, maxLength: CONTENT_MAX_LENGTH },
  author: { type: 'string', minLength: 1, maxLength: AUTHOR_MAX_LENGTH }
} as const

// Fastify's Ajv runs with removeAdditional, which silently drops unknown properties when
// additionalProperties is false; propertyNames makes them a 400 instead (as the plugin does).
export const newPostBody = {
  type: 'object',
  required: Object.keys(newPostFields),
  properties: newPostFields,
  propertyNames: { enum: Object.keys(newPostFields) }
} as const

export interface NewPost {
  tenant: string
  title: string
  content: string
  author: string
}

export const postResponse = {
  type: 'object',
  required: ['id', 'tenant', 'title', 'author', 'createdAt'],
  properties: {
    id: { type: 'string' },
    tenant: { type: 'string' },
    title: { type: 'string' },
    author: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' }
  }
} as const

export const errorResponse = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' }
  }
} as const

export interface PostAnswer {
  id: string
  tenant: string
  title: string
  author: string
  createdAt: string
}

interface StoredPost {
  _id: { toString (): string }
  title: string
  author: string
  createdAt: Date
}

export function toPostAnswer (tenant: string, post: StoredPost): PostAnswer {
  return {
    id: post._id.toString(),
    tenant,
    title: post.title,
    author: post.author,
    createdAt: post.createdAt.toISOString()
  }
}

/**
 * `POST <url>` creating a post through `postModel(tenant)`. `/posts` and `/leaking-posts` share
 * it: the only difference between them is how the tenant's connection and model are obtained.
 */
export function createPostRoute (instance: FastifyInstance, url: string, postModel: (tenant: string) => PostModel): void {
  instance.post<{ Body: NewPost }>(url, {
    schema: {
      body: newPostBody,
      response: { 201: postResponse, 400: errorResponse }
    }
  }, async function createPost (request, reply): Promise<PostAnswer> {
    const { tenant, title, content, author } = request.body
    const post = await postModel(tenant).create({ title, content, author })
    reply.code(201)
    return toPostAnswer(tenant, post)
  })
}
