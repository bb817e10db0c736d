import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify'
import { LRUCache } from 'lru-cache'
import memoryDiagnostics from '../plugin/index.js'
import { leakingPostsRoutes } from './routes/leaking-posts.js'
import { postsRoutes } from './routes/posts.js'
import { sessionsRoutes } from './routes/sessions.js'
import { statsRoute } from './routes/stats.js'
import type { CheckoutSession } from './sessions/checkout.js'
import { createLeakingTenantConnections } from './tenants/leaking-tenant-connections.js'
import { openTenantConnections } from './tenants/tenant-connections.js'

export interface DemoAppOptions {
  /**
   * URI of the database server, as the launcher gives it (`startDatabase().uri`). Tenant
   * databases are reached from it: `useDb(tenant)` on the correct path, `uriFor(uri, tenant)` on
   * the leaking one.
   */
  mongoUri: string
  /** Bearer token for the diagnostics routes under `/_diagnostics` (at least 16 characters). */
  diagnosticsToken: string
  /** Fastify's `logger` option. @defaultValue `false` */
  logger?: FastifyServerOptions['logger']
  /** An existing logger, instead of `logger`. */
  loggerInstance?: FastifyBaseLogger
  /** Where the plugin writes heap snapshots. @defaultValue the plugin's (a directory of this user's under the OS's temporary directory) */
  snapshotDir?: string
  /** The bounded session cache behind `POST /sessions`. */
  sessions?: {
    /** @defaultValue `1000` */
    max?: number
    /** @defaultValue `600000` (10 minutes) */
    ttlMs?: number
  }
}

const SESSIONS_MAX = 1000
const SESSIONS_TTL_MS = 10 * 60_000

// The load driver samples /memory and /gc-stats every second (the plugin allows 60 per minute by
// default) and takes 3 snapshots per run (2 per 10 minutes by default): the demo raises both, as a
// user would for their own dashboards. The rest stays at the plugin's defaults.
const DIAGNOSTICS_RATE_LIMITS = {
  memory: { max: 600, timeWindow: 60_000 },
  gcStats: { max: 600, timeWindow: 60_000 },
  takeSnapshot: { max: 6, timeWindow: 10 * 60_000 }
}

// A lab wants a verdict within a one-minute load phase; production keeps the 10-minute default
// window (and 5 s samples). With 1 s samples, a 60 s window holds enough of the heap's floor.
const DEMO_TREND = {
  intervalMs: 1000,
  thresholds: { windowMs: 60_000 }
}

/** The multi-tenant blog: leaking and correct endpoints side by side, and the diagnostics plugin. */
export async function buildApp (options: DemoAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, loggerInstance: options.loggerInstance })

  const tenants = await openTenantConnections(options.mongoUri)
  const leakingTenants = createLeakingTenantConnections(options.mongoUri)
  app.addHook('onClose', async function closeDatabaseConnections () {
    await Promise.all([tenants.close(), leakingTenants.close()])
  })

  const leakingSessions = new Map<string, CheckoutSession>()
  const boundedSessions = new LRUCache<string, CheckoutSession>({
    max: options.sessions?.max ?? SESSIONS_MAX,
    ttl: options.sessions?.ttlMs ?? SESSIONS_TTL_MS
  })

  try {
    await app.register(memoryDiagnostics, {
      prefix: '/_diagnostics',
      auth: { tokens: [options.diagnosticsToken] },
      rateLimit: DIAGNOSTICS_RATE_LIMITS,
      trend: DEMO_TREND,
      ...(options.snapshotDir === undefined ? {} : { snapshot: { dir: options.snapshotDir } })
    })
    postsRoutes(app, { tenants })
    leakingPostsRoutes(app, { tenants: leakingTenants })
    sessionsRoutes(app, { leaking: leakingSessions, bounded: boundedSessions })
    statsRoute(app, {
      tenantConnections: () => tenants.size,
      sessions: { leaking: () => leakingSessions.size, bounded: () => boundedSessions.size }
    })
    await app.ready()
  } catch (error) {
    await app.close()
    throw error
  }
  return app
}
