import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** What every mark starts with: the leak finder looks for string nodes with this prefix. */
export const REQUEST_COUNT_MARK_PREFIX = 'fastify-memory-diagnostics:request-count:'

// Published by Fastify 5 (lib/handle-request.js) each time a route's handler is called, in every
// encapsulation context, with the route as declared (`url` with its prefix, `method`). Not for
// 404s, nor for requests answered before the handler (auth hooks, rate limits, validation).
const HANDLER_START = 'tracing:fastify.request.handler:start'

// V8 cuts the names of string nodes at 1024 characters in a heap snapshot (a route longer than
// this is cut, so that its mark stays whole JSON).
const MAX_MARK_LENGTH = 1024
const MAX_ROUTE_LENGTH = 600

interface HandlerStart {
  request: FastifyRequest & { routeOptions: { handler?: unknown } }
  reply: FastifyReply
  route: { url: string, method: string | string[] }
}

export interface RequestCounts {
  /** `Date.now()` when the counts were read; the same in every mark of one call. */
  at: number
  /** Handlers called since the counter started, per route (`"POST /leaking-posts"`). */
  counts: Record<string, number>
  /** Handlers called since the previous `mark()` (since the start for the first). */
  sincePrevious: Record<string, number>
}

export interface RequestCounter {
  /**
   * Reads the counts and replaces the marks held for the next heap snapshot: one string per route,
   * `fastify-memory-diagnostics:request-count:{"v":1,"pid":…,"at":…,"route":"POST /x","count":n}`,
   * and one that says how many routes were marked, `{"v":1,"pid":…,"at":…,"routes":n}`, so that
   * the counts travel inside the snapshot file whatever carries it. Call it right before writing
   * the snapshot.
   */
  mark (): RequestCounts
  /** The counts so far, without marking. */
  counts (): Record<string, number>
  /** The handler function of each route counted (`"POST /leaking-posts"`), as Fastify called it. */
  handlers (): Map<string, Function>
  stop (): void
}

// Module-held so that the strings are reachable (and so in the snapshot) from one mark to the next.
let heldMarks: string[] = []

/** The marks of the last `mark()` in this process (what the next heap snapshot carries). */
export function requestCountMarks (): readonly string[] {
  return heldMarks
}

/**
 * Counts, per route, the requests whose handler Fastify called, across the whole app the plugin
 * is registered in (every encapsulation context, the user's routes included) and only that app:
 * another Fastify app in the same process has another HTTP server. The routes of the context
 * `skip` are left out (the plugin's own: a snapshot request is no workload, and counting it would
 * make it look like the route that leaves most behind). Cumulative since the start;
 * requests whose handler threw or rejected are counted (they allocated what the handler does).
 */
export function createRequestCounter (instance: FastifyInstance, { skip }: { skip?: FastifyInstance } = {}): RequestCounter {
  const server = instance.server
  // url -> method -> count: the route's url is the same string object on every request, so no
  // key is built per request.
  const byUrl = new Map<string, Map<string, number>>()
  // url -> method -> handler, filled at each route's first request only
  const handlerByUrl = new Map<string, Map<string, Function>>()
  let previous: Record<string, number> = {}

  function onHandlerStart (message: unknown): void {
    const { request, route } = message as HandlerStart
    if (request.server.server !== server || request.server === skip) return
    let byMethod = byUrl.get(route.url)
    if (byMethod === undefined) {
      byMethod = new Map()
      byUrl.set(route.url, byMethod)
    }
    const method = request.method
    const before = byMethod.get(method)
    if (before === undefined) recordHandler(route.url, method, request.routeOptions.handler)
    byMethod.set(method, (before ?? 0) + 1)
  }

  function recordHandler (url: string, method: string, handler: unknown): void {
    if (typeof handler !== 'function') return
    let byMethod = handlerByUrl.get(url)
    if (byMethod === undefined) {
      byMethod = new Map()
      handlerByUrl.set(url, byMethod)
    }
    byMethod.set(method, handler)
  }
  subscribe(HANDLER_START, onHandlerStart)

  function counts (): Record<string, number> {
    const result: Record<string, number> = {}
    for (const [url, byMethod] of byUrl) {
      for (const [method, count] of byMethod) result[`${method} ${url}`] = count
    }
    return result
  }

  return {
    mark () {
      const at = Date.now()
      const current = counts()
      const sincePrevious: Record<string, number> = {}
      const marks: string[] = []
      for (const [route, count] of Object.entries(current)) {
        sincePrevious[route] = count - (previous[route] ?? 0)
        const mark = requestCountMark({ at, route, count })
        if (mark.length <= MAX_MARK_LENGTH) marks.push(mark)
      }
      // Always one, so that a snapshot taken before any request says "counted: none" rather than
      // nothing: a baseline taken right after start would otherwise switch off the finder's
      // per-route attribution for the whole series.
      marks.push(asMark({ v: 1, pid: process.pid, at, routes: marks.length }))
      previous = current
      heldMarks = marks
      return { at, counts: current, sincePrevious }
    },
    counts,
    handlers () {
      const result = new Map<string, Function>()
      for (const [url, byMethod] of handlerByUrl) {
        for (const [method, handler] of byMethod) result.set(`${method} ${url}`, handler)
      }
      return result
    },
    stop () {
      unsubscribe(HANDLER_START, onHandlerStart)
    }
  }
}

function requestCountMark ({ at, route, count }: { at: number, route: string, count: number }): string {
  const shortRoute = route.length > MAX_ROUTE_LENGTH ? `${route.slice(0, MAX_ROUTE_LENGTH)}…` : route
  return asMark({ v: 1, pid: process.pid, at, route: shortRoute, count })
}

function asMark (fields: object): string {
  // Built with join, not `+`: a concatenation is a V8 cons string, which a heap snapshot shows as
  // "(concatenated string)" instead of its text.
  return [REQUEST_COUNT_MARK_PREFIX, JSON.stringify(fields)].join('')
}
