import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CouponRejectedError, checkout } from '../sessions/checkout.js'
import type { CheckoutRequest, CompletedCheckout, SessionStore } from '../sessions/checkout.js'
import { errorResponse, tenantName } from './post-http.js'

const checkoutFields = {
  tenant: tenantName,
  user: { type: 'string', minLength: 1, maxLength: 100 },
  plan: { type: 'string', enum: ['monthly', 'yearly'] },
  coupon: { type: 'string', pattern: '^[A-Z0-9]{1,32}$' }
} as const

const checkoutBody = {
  type: 'object',
  required: ['tenant', 'user', 'plan'],
  properties: checkoutFields,
  propertyNames: { enum: Object.keys(checkoutFields) }
} as const

const cacheSize = { type: 'integer' } as const

const checkoutSchema = {
  body: checkoutBody,
  response: {
    201: {
      type: 'object',
      required: ['sessionId', 'status', 'totalCents', 'cacheSize'],
      properties: { sessionId: { type: 'string' }, status: { type: 'string' }, totalCents: { type: 'integer' }, cacheSize }
    },
    400: errorResponse,
    422: {
      ...errorResponse,
      required: [...errorResponse.required, 'code', 'cacheSize'],
      properties: { ...errorResponse.properties, cacheSize }
    }
  }
}

export interface SessionsRoutesOptions {
  /** `POST /leaking-sessions`: a plain Map, cleaned on the success path only. */
  leaking: SessionStore
  /** `POST /sessions`: the same checkout over a cache bounded by `max` and `ttl`. */
  bounded: SessionStore
}

/**
 * A rejected coupon answers 422 after its session was stored. The load scripts send a share of
 * checkouts with an expired coupon (as real traffic does), so under that mix `/leaking-sessions`
 * keeps one session per failed checkout forever while `/sessions` stays under its `max`.
 */
export function sessionsRoutes (instance: FastifyInstance, { leaking, bounded }: SessionsRoutesOptions): void {
  instance.post<{ Body: CheckoutRequest }>('/leaking-sessions', { schema: checkoutSchema }, checkoutHandler(leaking))
  instance.post<{ Body: CheckoutRequest }>('/sessions', { schema: checkoutSchema }, checkoutHandler(bounded))
}

type CheckoutAnswer = CompletedCheckout & { cacheSize: number }

function checkoutHandler (store: SessionStore) {
  return async function handleCheckout (request: FastifyRequest<{ Body: CheckoutRequest }>, reply: FastifyReply): Promise<CheckoutAnswer> {
    let completed: CompletedCheckout
    try {
      completed = checkout(store, request.body, request.headers['user-agent'])
    } catch (error) {
      if (error instanceof CouponRejectedError) {
        reply.code(422)
        return reply.send({ statusCode: 422, code: error.code, error: 'Unprocessable Entity', message: error.message, cacheSize: store.size })
      }
      throw error
    }
    reply.code(201)
    return { ...completed, cacheSize: store.size }
  }
}
