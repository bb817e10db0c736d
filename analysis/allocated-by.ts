import { packageOfFile } from './defining-files.js'
import { appCall } from './heap-profile/app-frames.js'
import { frameKey } from './heap-profile/live-sites.js'
import type { AppCallSite, GrowingSite, GrowingSitesReport, SiteFrame, SiteRoute } from './heap-profile/find-growing-sites.js'
import type { RouteShare } from './route-attribution.js'

/** Where a candidate's objects were allocated, from sampling heap profiles of the same process. */
export interface LeakAllocation {
  /** The growing allocation's stack, innermost first, without Node's own frames (at most `STACK_SHOWN`). */
  readonly stack: SiteFrame[]
  /**
   * The package the allocation happened in: the one the app's innermost frame called into, else
   * (no app frame: a library's own callback) the innermost frame's under `node_modules`.
   */
  readonly packageName?: string
  /** The route whose handler is on the stack, with the site's growth per request of it. */
  readonly route: SiteRoute | null
  /** The site's live bytes, last profile minus first. */
  readonly growthBytes: number
  /**
   * Why this site is the candidate's: the candidate's class's constructor is on its stack
   * (`constructor`), or it is the app's function that most of the growth under the handler of the
   * one route the candidate's objects follow went through (`route`; `share` says how much of it),
   * with the library function it called when most of that went through one.
   */
  readonly basis: 'constructor' | 'route'
  /** With `route`: this function's part of all that grew under the route's handler (above a half). */
  readonly share?: number
}

const STACK_SHOWN = 6

/** What of a leak candidate the join reads. */
export interface AllocationCandidate {
  readonly className: string
  readonly objectClass: string
  readonly classFile?: string
  readonly bytesPerInterval: readonly number[]
  readonly perRoute?: readonly RouteShare[]
  readonly allocatedBy?: LeakAllocation
}

/**
 * Each candidate with the growing allocation site that made its objects, when the profiles say
 * so (see `LeakAllocation.basis`); a candidate no site can be told for is left as it is.
 */
export function withAllocations<C extends AllocationCandidate> (candidates: readonly C[], sites: GrowingSitesReport): C[] {
  return candidates.map((candidate) => {
    const found = byConstructor(candidate, sites.sites) ?? byRoute(candidate, sites.appCalls)
    return found === null ? candidate : { ...candidate, allocatedBy: found }
  })
}

function byConstructor (candidate: AllocationCandidate, sites: readonly GrowingSite[]): LeakAllocation | null {
  const names = new Set([candidate.objectClass, candidate.className].filter(isClassName))
  if (names.size === 0) return null
  const classFile = candidate.classFile === undefined ? undefined : plainPath(candidate.classFile)
  const isConstructor = (frame: SiteFrame): boolean => names.has(frame.functionName) && (classFile === undefined || plainPath(frame.url) === classFile)
  const site = biggest(sites.filter((s) => s.stack.some(isConstructor)))
  return site === null ? null : allocation(site, 'constructor')
}

/** Only a majority is claimed: a route that allocates two things as it leaks one names neither. */
const MIN_ROUTE_SHARE = 0.5
/**
 * By route, the candidate's new bytes and the call's growth must agree within this factor (the
 * profile estimates from samples; the candidate's bytes include what it drags): three stray
 * objects that follow a route's requests are not what its 75 kB were.
 */
const SIZE_AGREEMENT = 4

function byRoute (candidate: AllocationCandidate, calls: readonly AppCallSite[]): LeakAllocation | null {
  const routes = (candidate.perRoute ?? []).filter((share) => share.objectsPerRequest > 0 && !share.ambiguous)
  if (routes.length !== 1) return null
  const under = calls.filter((call) => call.route?.route === routes[0]!.route)
  const total = sum(under)
  // by the app's function first: a handler that keeps an object of its own and hands a library another is one place
  const byFrame = groupBy(under, (call) => frameKey(call.frame))
  const frameCalls = biggestGroup(byFrame)
  if (frameCalls === null) return null
  const grown = sum(frameCalls)
  if (grown <= total * MIN_ROUTE_SHARE) return null
  const candidateBytes = candidate.bytesPerInterval.reduce((a, b) => a + b, 0)
  if (candidateBytes * SIZE_AGREEMENT < grown || candidateBytes > grown * SIZE_AGREEMENT) return null
  const call = biggest(frameCalls)!
  const callee = call.callee !== null && call.growthBytes > grown * MIN_ROUTE_SHARE ? call.callee : null
  const packageName = callee === null ? undefined : packageOfFile(callee.url)
  const route = call.route === null ? null : { ...call.route, bytesPerRequest: call.route.requests > 0 ? Math.round(grown / call.route.requests) : null }
  return {
    stack: callee === null ? [call.frame] : [callee, call.frame],
    ...(packageName === undefined ? {} : { packageName }),
    route,
    growthBytes: grown,
    basis: 'route',
    share: grown / total
  }
}

function groupBy<T> (items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const group = groups.get(key(item))
    if (group === undefined) groups.set(key(item), [item])
    else group.push(item)
  }
  return [...groups.values()]
}

function biggestGroup<T extends { readonly growthBytes: number }> (groups: readonly T[][]): T[] | null {
  return groups.reduce<T[] | null>((best, group) => (best === null || sum(group) > sum(best) ? group : best), null)
}

function sum (items: ReadonlyArray<{ readonly growthBytes: number }>): number {
  return items.reduce((total, item) => total + item.growthBytes, 0)
}

function allocation (site: GrowingSite, basis: LeakAllocation['basis']): LeakAllocation {
  const stack = site.stack.filter((frame) => !frame.url.startsWith('node:')).slice(0, STACK_SHOWN)
  const call = appCall(site.stack)
  const library = call === null ? site.stack.find((frame) => packageOfFile(frame.url) !== undefined) : call.callee
  const packageName = library === undefined || library === null ? undefined : packageOfFile(library.url)
  return { stack, ...(packageName === undefined ? {} : { packageName }), route: site.route, growthBytes: site.growthBytes, basis }
}

function biggest<T extends { readonly growthBytes: number }> (items: readonly T[]): T | null {
  return items.reduce<T | null>((best, item) => (best === null || item.growthBytes > best.growthBytes ? item : best), null)
}

/**
 * A name a constructor frame can carry: not V8's `(string)` or `Node / X`, not a closure's
 * `onTick()`, not `Object`/`Array` (made by literals, which no frame names).
 */
function isClassName (name: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'Object' && name !== 'Array'
}

function plainPath (url: string): string {
  return url.replace(/^file:\/\//, '')
}
