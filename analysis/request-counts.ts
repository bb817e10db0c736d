import { edgeStarts } from './edge-starts.js'
import type { HeapSnapshot } from './snapshot.js'

/** The prefix of the strings the plugin keeps in the heap, one per route, at each mark. */
export const REQUEST_COUNT_PREFIX = 'fastify-memory-diagnostics:request-count:'

/** True for the text of a (flat) request-count mark. */
export function isRequestCountMark (text: string): boolean {
  return text.startsWith(REQUEST_COUNT_PREFIX)
}

/** Completed responses per route since the process started, as of one mark. */
export interface RequestCounts {
  readonly pid: number
  /** When the mark was made, in ms since the epoch. */
  readonly at: number
  /** Route ("POST /posts", method and route pattern) → cumulative completed responses. */
  readonly counts: Readonly<Record<string, number>>
}

/** One route's cumulative count, or (`route` undefined) how many routes the mark has: 0 before any request. */
interface Mark {
  readonly v: 1
  readonly pid: number
  readonly at: number
  readonly route?: string
  readonly count?: number
}

/**
 * The request counts a snapshot carries: the strings of the latest mark (largest `at`) that
 * were alive when it was taken. Undefined when the snapshot has none (no plugin, or an older one).
 * A flat string's text is its node name; a concatenated one (`prefix + json` before V8
 * flattened it) is rebuilt from its parts, which needs the edges: a producer should flatten
 * its marks (e.g. `Buffer.from(text).toString()`) so that a snapshot read without edges has them too.
 */
export function readRequestCounts (snapshot: HeapSnapshot): RequestCounts | undefined {
  let latest: Mark[] = []
  for (const text of markTexts(snapshot)) {
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
  for (const mark of latest) {
    if (mark.pid === first.pid && mark.route !== undefined && mark.count !== undefined) counts[mark.route] = mark.count
  }
  return { pid: first.pid, at: first.at, counts }
}

const MAX_MARK_LENGTH = 4096

function * markTexts (snapshot: HeapSnapshot): Generator<string> {
  const { nodeType, nodeName, strings, nodeCount } = snapshot
  const flat = snapshot.nodeTypeNames.indexOf('string')
  const cons = snapshot.nodeTypeNames.indexOf('concatenated string')
  const firstEdge = snapshot.edgeToNode.length > 0 ? edgeStarts(snapshot.nodeEdgeCount) : undefined
  for (let i = 0; i < nodeCount; i++) {
    const type = nodeType[i]
    if (type === flat) {
      const text = strings[nodeName[i] as number] as string
      if (text.startsWith(REQUEST_COUNT_PREFIX)) yield text
    } else if (type === cons && firstEdge !== undefined) {
      const text = consText(snapshot, firstEdge, i, REQUEST_COUNT_PREFIX.length)
      if (text.startsWith(REQUEST_COUNT_PREFIX)) yield consText(snapshot, firstEdge, i, MAX_MARK_LENGTH)
    }
  }
}

/** The text of a concatenated string from its `first` and `second` parts, up to `limit` characters. */
function consText (snapshot: HeapSnapshot, firstEdge: Uint32Array, node: number, limit: number): string {
  const { nodeType, nodeName, strings, edgeNameOrIndex, edgeToNode } = snapshot
  const cons = snapshot.nodeTypeNames.indexOf('concatenated string')
  let text = ''
  const pending = [node]
  while (pending.length > 0 && text.length < limit) {
    const at = pending.pop() as number
    if (nodeType[at] !== cons) {
      text += strings[nodeName[at] as number] as string
      continue
    }
    let first: number | undefined
    let second: number | undefined
    for (let e = firstEdge[at] as number, end = firstEdge[at + 1] as number; e < end; e++) {
      const name = strings[edgeNameOrIndex[e] as number]
      if (name === 'first') first = edgeToNode[e] as number
      else if (name === 'second') second = edgeToNode[e] as number
    }
    if (second !== undefined) pending.push(second)
    if (first !== undefined) pending.push(first)
  }
  return text.slice(0, limit)
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
  const { v, pid, at, route, count, routes } = value as Record<string, unknown>
  if (v !== 1 || !isCount(pid) || !isCount(at)) return undefined
  if (typeof route === 'string' && isCount(count)) return { v, pid, at, route, count }
  return isCount(routes) ? { v, pid, at } : undefined
}

function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
