import mongoose from 'mongoose'
import { POST_MODEL_NAME, postSchema } from '../post-schema.js'
import type { Post, PostModel } from '../post-schema.js'

/** The correct multi-tenant setup: one connection pool shared by every tenant database. */
export interface TenantConnections {
  /** The tenant's Post model, compiled on the first call and reused afterwards. */
  postModel (tenant: string): PostModel
  /** How many tenants have a compiled model (one `useDb` connection object each). */
  readonly size: number
  /** Closes the base connection, and with it every tenant's `useDb` connection. */
  close (): Promise<void>
}

/**
 * Opens the single base connection. Each tenant then gets `base.useDb(tenant, { useCache: true })`:
 * a connection object that shares the base connection's MongoClient and sockets, and that
 * Mongoose does not add to `mongoose.connections`.
 */
export async function openTenantConnections (baseUri: string): Promise<TenantConnections> {
  const base = mongoose.createConnection(baseUri)
  try {
    await base.asPromise()
  } catch (error) {
    await base.destroy()
    throw error
  }
  const models = new Map<string, PostModel>()
  return {
    postModel (tenant) {
      let model = models.get(tenant)
      if (model === undefined) {
        model = base.useDb(tenant, { useCache: true }).model<Post>(POST_MODEL_NAME, postSchema)
        models.set(tenant, model)
      }
      return model
    },
    get size () {
      return models.size
    },
    async close () {
      models.clear()
      // destroy() rather than close(): it also takes the connection out of mongoose.connections.
      await base.destroy()
    }
  }
}
