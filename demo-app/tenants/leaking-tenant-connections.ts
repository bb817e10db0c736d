import mongoose from 'mongoose'
import type { Connection } from 'mongoose'
import { uriFor } from '../database/launcher.js'
import { POST_MODEL_NAME, postSchema } from '../post-schema.js'
import type { Post, PostModel } from '../post-schema.js'

/** The multi-tenant setup that leaked in production. Only the demo's `/leaking-posts` uses it. */
export interface LeakingTenantConnections {
  /** A new connection to the tenant's database and a freshly compiled Post model, at every call. */
  postModel (tenant: string): PostModel
  /** Closes every connection `postModel` opened (the production code never did). */
  close (): Promise<void>
}

export function createLeakingTenantConnections (baseUri: string): LeakingTenantConnections {
  // Weak, so that tracking what to close at shutdown does not itself retain anything: the leak
  // stays exactly the incident's, where mongoose.connections (createConnection pushes every new
  // connection there, and only destroy() takes it out) keeps each connection, its MongoClient,
  // its sockets and its models reachable.
  const openedHere = new WeakSet<Connection>()
  return {
    postModel (tenant) {
      const connection = mongoose.createConnection(uriFor(baseUri, tenant))
      openedHere.add(connection)
      return connection.model<Post>(POST_MODEL_NAME, postSchema)
    },
    async close () {
      const leaked = mongoose.connections.filter((connection) => openedHere.has(connection))
      await Promise.all(leaked.map(async (connection) => connection.destroy()))
    }
  }
}
