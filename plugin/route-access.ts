import fastifyAuth from '@fastify/auth'
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { bearerTokenStrategy } from './auth.js'
import { RateLimitedError } from './errors.js'
import type { ResolvedAuth, RouteRateLimit } from './types/options.js'

export interface RouteAccess {
  /**
   * The onRequest hooks of one route: auth first (its failures counted per IP, apart), then the
   * route's rate limit, so that only authenticated requests spend the route's budget.
   */
  onRequest (limit: RouteRateLimit | false, options?: AccessOptions): onRequestHookHandler[]
}

export interface AccessOptions {
  /** Skip the auth check (for a route the user opened on purpose, such as a scraped /metrics). */
  open?: boolean
  /** Called when the rate limit refuses a request. */
  onLimited?: () => void
  /**
   * Runs after auth and before the rate limit: a request it refuses does not spend the route's
   * budget (a snapshot request that meets one in progress must not cost the operator a credit).
   */
  beforeLimit?: onRequestHookHandler
}

export interface RouteAccessSettings {
  auth: ResolvedAuth | false
  /** Whether any route has a rate limit. */
  anyRateLimit: boolean
  /** The budget of failed authentications per IP. */
  failedAuthLimit: RouteRateLimit | false
}

type Done = (error?: Error) => void
type CallbackHook = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: Done) => void

// The key prefix keeps the failure counts apart from the application's own limits in a shared store.
const FAILED_AUTH_KEY = 'fastify-memory-diagnostics:failed-auth:'

/**
 * Registers what route access needs inside the plugin's own context, reusing the application's
 * `@fastify/auth` and `@fastify/rate-limit` when it has registered them (and so its store).
 */
export async function createRouteAccess (instance: FastifyInstance, { auth, anyRateLimit, failedAuthLimit }: RouteAccessSettings): Promise<RouteAccess> {
  const needsRateLimit = anyRateLimit || (auth !== false && failedAuthLimit !== false)
  if (needsRateLimit && !(instance.hasDecorator('rateLimit') && instance.hasDecorator('createRateLimit'))) {
    await instance.register(fastifyRateLimit, { global: false })
  }
  let authHook: onRequestHookHandler | null = null
  if (auth !== false) {
    if (!instance.hasDecorator('auth')) await instance.register(fastifyAuth)
    const strategies = auth.tokens.length > 0 ? [bearerTokenStrategy(auth.tokens), ...auth.strategies] : auth.strategies
    // @fastify/auth accepts async strategies at runtime; its types only declare the callback form.
    const verify = instance.auth(strategies as Parameters<FastifyInstance['auth']>[0], { relation: auth.relation }) as unknown as CallbackHook
    authHook = (failedAuthLimit === false ? verify : countingFailures(instance, verify, failedAuthLimit)) as onRequestHookHandler
  }
  return {
    onRequest (limit, { open = false, onLimited, beforeLimit } = {}) {
      const hooks: onRequestHookHandler[] = []
      if (authHook !== null && !open) hooks.push(authHook)
      if (beforeLimit !== undefined) hooks.push(beforeLimit)
      if (limit !== false) {
        hooks.push(instance.rateLimit({
          max: limit.max,
          timeWindow: limit.timeWindow,
          errorResponseBuilder: (_request, context) => new RateLimitedError(context.after),
          ...(onLimited === undefined ? {} : { onExceeded: () => onLimited() })
        }))
      }
      return hooks
    }
  }
}

/**
 * Wraps the auth hook: a request that fails it is counted against its IP's failure budget, and
 * answered 429 instead of 401/403 once that budget is spent. A request that passes is never
 * counted nor refused here, whatever its IP did before.
 */
function countingFailures (instance: FastifyInstance, verify: CallbackHook, limit: RouteRateLimit): CallbackHook {
  const countFailure = instance.createRateLimit({
    max: limit.max,
    timeWindow: limit.timeWindow,
    keyGenerator: (request) => FAILED_AUTH_KEY + request.ip
  })
  return function authenticate (request, reply, done) {
    verify.call(this, request, reply, (error) => {
      if (error == null) return done()
      countFailure(request).then((state) => {
        if (!state.isAllowed && state.isExceeded) {
          reply.removeHeader('www-authenticate')
          reply.header('retry-after', state.ttlInSeconds)
          return done(new RateLimitedError(`${state.ttlInSeconds} seconds`))
        }
        done(error)
      }, () => done(error))
    })
  }
}
