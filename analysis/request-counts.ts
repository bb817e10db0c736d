import type { HeapSnapshot } from './snapshot.js'

/** The prefix of the strings the plugin keeps in the heap, one per route, at each mark. */
export const REQUEST_COUNT_PREFIX = 'fastify-memory-diagnostics:request-count:'

/** Completed responses per route since the process started, as of one mark. */
export interface RequestCounts {
  readonly pid: number
  /** When the mark was made, in ms since the epoch. */
  readonly at: number
  /** Route ("POST /posts", method and route pattern) → cumulative completed responses. */
  readonly counts: Readonly<Record<string, number>>
}

interface Mark {
  readonly v: 1
  readonly pid: number
  readonly at: number
  readonly route: string
  readonly count: number
}

/**
 * The request counts a snapshot carries: the strings of the latest mark (largest `at`) that
 * were alive when it was taken. Undefined when the snapshot has none (no plugin, or an older one).
 */
export function readRequestCounts (snapshot: HeapSnapshot): RequestCounts | undefined {
  let latest: Mark[] = []
  for (const text of snapshot.strings) {
    if (!text.startsWith(REQUEST_COUNT_PREFIX)) continue
    const mark = parseMark(text.slice(REQUEST_COUNT_PREFIX.length))
    if (mark === undefined) continue
    const at = latest[0]?.at ?? -Infinity
    if (mark.at > at) latest = [mark]
    else if (mark.at === at) latest.push(mark)
  }
  const [first] = latest
  if (first === undefined) return undefined
  const counts: Record<string, number> = {}
  // One route may appear twice if V8 kept two copies of its string; they say the same.
  for (const mark of latest) if (mark.pid === first.pid) counts[mark.route] = mark.count
  return { pid: first.pid, at: first.at, counts }
}

function parseMark (json: string): Mark | undefined {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    // V8 cuts snapshot strings at 1024 characters: a route that long has no usable mark.
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { v, pid, at, route, count } = value as Record<string, unknown>
  if (v !== 1 || !isCount(pid) || !isCount(at) || typeof route !== 'string' || !isCount(count)) return undefined
  return { v, pid, at, route, count }
}

function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
