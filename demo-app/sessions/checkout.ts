import { randomUUID } from 'node:crypto'
import createError from '@fastify/error'

/**
 * Checkout sessions: a reader subscribing to a tenant's blog. The session lives in an in-memory
 * cache while the order is priced, and is taken out of it once the checkout completes.
 */
export interface CheckoutSession {
  id: string
  tenant: string
  user: string
  startedAt: number
  userAgent: string | undefined
  quote: Quote
}

export interface Quote {
  plan: Plan
  currency: 'EUR'
  lines: Array<{ sku: string, description: string, amountCents: number }>
}

export type Plan = 'monthly' | 'yearly'

export interface CheckoutRequest {
  tenant: string
  user: string
  plan: Plan
  coupon?: string
}

export interface CompletedCheckout {
  sessionId: string
  status: 'completed'
  totalCents: number
}

/** What both caches (a Map and an LRUCache) offer the checkout. */
export interface SessionStore {
  set (id: string, session: CheckoutSession): unknown
  delete (id: string): unknown
  readonly size: number
}

export const CouponRejectedError = createError<[string, string]>(
  'DEMO_COUPON_REJECTED',
  'Coupon %s is %s',
  422
)

const PRICES_CENTS: Record<Plan, number> = { monthly: 500, yearly: 5000 }
const ACTIVE_COUPONS = new Map([['WELCOME10', 10], ['YEARLY20', 20]])
const EXPIRED_COUPONS = new Set(['SPRING23', 'BLACKFRIDAY22'])

/**
 * Starts a session, prices the order, completes it. The bug, as found in production: the session
 * is removed only on the success path, so every rejected coupon (a business rule checked after the
 * session was stored) leaves its session in the store for good. With a Map that is a leak; with
 * an LRU cache bounded by `max` and `ttl`, whatever a code path forgets is evicted.
 */
export function checkout (store: SessionStore, order: CheckoutRequest, userAgent: string | undefined): CompletedCheckout {
  const session = startSession(order, userAgent)
  store.set(session.id, session)
  const totalCents = applyCoupon(session.quote, order.coupon)
  store.delete(session.id)
  return { sessionId: session.id, status: 'completed', totalCents }
}

function startSession (order: CheckoutRequest, userAgent: string | undefined): CheckoutSession {
  const price = PRICES_CENTS[order.plan]
  return {
    id: randomUUID(),
    tenant: order.tenant,
    user: order.user,
    startedAt: Date.now(),
    userAgent,
    quote: {
      plan: order.plan,
      currency: 'EUR',
      lines: [{ sku: `${order.tenant}:${order.plan}`, description: `${order.plan} subscription to ${order.tenant}`, amountCents: price }]
    }
  }
}

function applyCoupon (quote: Quote, coupon: string | undefined): number {
  const subtotal = quote.lines.reduce((sum, line) => sum + line.amountCents, 0)
  if (coupon === undefined) return subtotal
  const percent = ACTIVE_COUPONS.get(coupon)
  if (percent === undefined) {
    throw new CouponRejectedError(coupon, EXPIRED_COUPONS.has(coupon) ? 'expired' : 'unknown')
  }
  const discount = Math.round(subtotal * percent / 100)
  quote.lines.push({ sku: `coupon:${coupon}`, description: `${percent}% off`, amountCents: -discount })
  return subtotal - discount
}
