import fastifyAuth from '@fastify/auth'
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import { bearerTokenStrategy } from './auth.js'
import { RateLimitedError } from './errors.js'
import type { ResolvedAuth, RouteRateLimit } from './options.js'

export interface RouteGuards {
  /** The onRequest hooks of one route: its rate limit first (it also slows token guessing), then auth. */
  onRequest (limit: RouteRateLimit | false, options?: GuardOptions): onRequestHookHandler[]
}

export interface GuardOptions {
  /** Skip the auth check (for a route the user opened on purpose, such as a scraped /metrics). */
  open?: boolean
  /** Called when the rate limit refuses a request. */
  onLimited?: () => void
}

/**
 * Registers what the guards need inside the plugin's own context, reusing the application's
 * `@fastify/auth` and `@fastify/rate-limit` when it has registered them (and so its store).
 */
export async function createRouteGuards (instance: FastifyInstance, auth: ResolvedAuth | false, anyRateLimit: boolean): Promise<RouteGuards> {
  if (anyRateLimit && !instance.hasDecorator('rateLimit')) {
    await instance.register(fastifyRateLimit, { global: false })
  }
  let authHook: onRequestHookHandler | null = null
  if (auth !== false) {
    if (!instance.hasDecorator('auth')) await instance.register(fastifyAuth)
    const strategies = auth.tokens.length > 0 ? [bearerTokenStrategy(auth.tokens), ...auth.strategies] : auth.strategies
    // @fastify/auth accepts async strategies at runtime; its types only declare the callback form.
    authHook = instance.auth(strategies as Parameters<FastifyInstance['auth']>[0], { relation: auth.relation }) as onRequestHookHandler
  }
  return {
    onRequest (limit, { open = false, onLimited } = {}) {
      const hooks: onRequestHookHandler[] = []
      if (limit !== false) {
        hooks.push(instance.rateLimit({
          max: limit.max,
          timeWindow: limit.timeWindow,
          errorResponseBuilder: (_request, context) => new RateLimitedError(context.after),
          ...(onLimited === undefined ? {} : { onExceeded: () => onLimited() })
        }))
      }
      if (authHook !== null && !open) hooks.push(authHook)
      return hooks
    }
  }
}
