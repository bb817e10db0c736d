import { integerProblem } from '../../plugin/integer-check.js'
import { HeapProfileFormatError } from '../errors.js'
import { appCall } from './app-frames.js'
import { diskSourcePositions } from './disk-source-maps.js'
import { frameKey, liveStacks } from './live-sites.js'
import type { LiveStack, SiteFrame } from './live-sites.js'
import { readHeapProfile } from './read-heap-profile.js'
import type { HeapProfile } from './read-heap-profile.js'

export type { SiteFrame } from './live-sites.js'

export interface FindGrowingSitesOptions {
  /**
   * Report at most this many sites.
   * @defaultValue 10
   */
  readonly top?: number
  /**
   * Map frames the profile gives no original position for through the source maps found on
   * disk: the `.map` named by each script's `//# sourceMappingURL=` (or an inline map), when the
   * script's path exists on this machine.
   * @defaultValue true
   */
  readonly sourceMaps?: boolean
}

export interface HeapProfileSummary {
  readonly file: string
  readonly samples: number
  /** Live bytes of every site together (V8's estimate from its samples). */
  readonly liveBytes: number
  /** From the plugin's metadata, when the profile carries it. */
  readonly pid?: number
  readonly takenAt?: string
  readonly since?: string
  readonly intervalBytes?: number
  /** Handler calls per route since the process started. */
  readonly requestCounts?: Readonly<Record<string, number>>
}

/** The route whose handler is on the site's stacks, and what the site grew per request of it. */
export interface SiteRoute {
  readonly route: string
  /** The route's requests from the first profile to the last. */
  readonly requests: number
  /** The growth of this site under that route's handler, per request; null without requests. */
  readonly bytesPerRequest: number | null
}

export interface GrowingSite extends SiteFrame {
  /** Live bytes at this site in each profile. */
  readonly bytes: readonly number[]
  /** Last minus first (with one profile: the live bytes). */
  readonly growthBytes: number
  /**
   * The stack that grew most (with one profile, that holds most live bytes), among those under
   * `route` when there is one; innermost frame first.
   */
  readonly stack: readonly SiteFrame[]
  /** The route whose handler is on the stacks that grew most; null when no known handler is on them. */
  readonly route: SiteRoute | null
}

/**
 * Where the application's own code asked for what grew: the innermost frame outside
 * `node_modules` and Node on the growing stacks, with the function it called there. A leak inside
 * a library (a connection, a cache) is allocated by dozens of the library's functions; summed by
 * the app's call into it, it is one line: `postModel → createConnection`.
 */
export interface AppCallSite {
  /** The app's function (where it starts: the profile knows functions, not the calling line). */
  readonly frame: SiteFrame
  /** The function it called toward the allocations; null when it allocated them itself. */
  readonly callee: SiteFrame | null
  /** Live bytes allocated under this call in each profile. */
  readonly bytes: readonly number[]
  readonly growthBytes: number
  readonly route: SiteRoute | null
}

export interface GrowingSitesReport {
  readonly profiles: readonly HeapProfileSummary[]
  /**
   * With two profiles or more: the sites whose live bytes grew in every interval, most growth
   * first. With one: the sites holding most live bytes (no growth can be told from one).
   */
  readonly sites: readonly GrowingSite[]
  /** Sites that grew in every interval, before `top` cut them (with one profile: 0). */
  readonly growingCount: number
  /** The same growth summed by the app's call that led to it (the same ranking and `top`). */
  readonly appCalls: readonly AppCallSite[]
  readonly notes: readonly string[]
}

const DEFAULT_TOP = 10

/**
 * Compares sampling heap profiles of one process taken over time (each holds the samples of the
 * objects still alive since sampling began): the allocation sites whose live bytes grew in every
 * interval are what keeps growing. Each is attributed to the route whose handler is on its stack
 * when the profiles come from the plugin (which records where each handler is defined).
 */
export async function findGrowingSites (files: readonly string[], options: FindGrowingSitesOptions = {}): Promise<GrowingSitesReport> {
  const top = options.top ?? DEFAULT_TOP
  const problem = integerProblem(top, { min: 1, name: '`top`' })
  if (problem !== null) throw new TypeError(problem)
  if (files.length === 0) throw new TypeError('findGrowingSites needs one heap profile or more')
  const profiles: HeapProfile[] = []
  for (const file of files) profiles.push(await readHeapProfile(file))
  const notes = checkSeries(profiles)
  const onDisk = options.sourceMaps === false ? {} : await diskSourcePositions(profiles.map((p) => p.head), profiles.at(-1)?.metadata?.sourcePositions ?? {})
  const stacks = profiles.map((profile) => liveStacks(profile, { ...onDisk, ...profile.metadata?.sourcePositions }))
  const summaries = profiles.map((profile, i) => summary(profile, stacks[i]!))
  const last = stacks.length - 1
  const compare = profiles.length > 1
  const sites: GrowingSite[] = []
  for (const { perProfile, bytes } of growingGroups(stacks, compare)) {
    const route = siteRoute(perProfile[0]!, perProfile[last]!, profiles, compare)
    const shown = shownStack(perProfile[0]!, perProfile[last]!, route, compare)
    sites.push({
      ...shown.frames[0]!,
      bytes,
      growthBytes: compare ? bytes[last]! - bytes[0]! : bytes[0]!,
      stack: shown.frames,
      route
    })
  }
  const appCalls: AppCallSite[] = []
  for (const { perProfile, bytes } of growingGroups(stacks.map(byAppCall), compare)) {
    const call = appCall([...perProfile[last]!.values()][0]!.frames)!
    appCalls.push({ ...call, bytes, growthBytes: compare ? bytes[last]! - bytes[0]! : bytes[0]!, route: siteRoute(perProfile[0]!, perProfile[last]!, profiles, compare) })
  }
  appCalls.sort((a, b) => b.growthBytes - a.growthBytes)
  sites.sort((a, b) => b.growthBytes - a.growthBytes)
  if (profiles.length === 1) {
    notes.unshift(`One profile: live bytes by allocation site since sampling began${summaries[0]!.since === undefined ? '' : ` (${summaries[0]!.since})`}, largest first. ` +
      'It cannot tell growth from a steady cache or what was allocated at start: take two more profiles under load and compare them.')
  } else if (sites.length === 0) {
    notes.push('No allocation site grew in every interval. A slow leak may need more load between the profiles, or a smaller sampling interval (POST /heap-profile?intervalBytes=32768).')
  }
  return { profiles: summaries, sites: sites.slice(0, top), growingCount: compare ? sites.length : 0, appCalls: appCalls.slice(0, top), notes }
}

type StackGroups = Map<string, Map<string, LiveStack>>

/** The groups (sites, or app calls) with live bytes in the last profile that grew in every interval (with one profile: all of them). */
function growingGroups (groups: readonly StackGroups[], compare: boolean): Array<{ perProfile: Array<Map<string, LiveStack>>, bytes: number[] }> {
  const keys = new Set(groups.flatMap((byKey) => [...byKey.keys()]))
  const found = []
  for (const key of keys) {
    const perProfile = groups.map((byKey) => byKey.get(key) ?? new Map<string, LiveStack>())
    const bytes = perProfile.map((byStack) => sum([...byStack.values()].map((s) => s.bytes)))
    if (compare && !bytes.every((b, i) => i === 0 || b > bytes[i - 1]!)) continue
    if (perProfile.at(-1)!.size === 0) continue
    found.push({ perProfile, bytes })
  }
  return found
}

/** The stacks of one profile grouped by the app's call on them (stacks without app code left out). */
function byAppCall (bySite: StackGroups): StackGroups {
  const byCall: StackGroups = new Map()
  for (const stacks of bySite.values()) {
    for (const [stackKey, stack] of stacks) {
      const call = appCall(stack.frames)
      if (call === null) continue
      const key = `${frameKey(call.frame)} → ${call.callee === null ? '' : frameKey(call.callee)}`
      let group = byCall.get(key)
      if (group === undefined) {
        group = new Map()
        byCall.set(key, group)
      }
      group.set(stackKey, stack)
    }
  }
  return byCall
}

// Samples of objects alive since sampling began: profiles compare only within one sampling run.
function checkSeries (profiles: readonly HeapProfile[]): string[] {
  const notes: string[] = []
  const withMeta = profiles.filter((p) => p.metadata !== null)
  if (withMeta.length < profiles.length && profiles.length > 1) {
    notes.push('Some profiles carry no plugin metadata (saved from DevTools or `node --heap-prof`): their process, order and sampling run cannot be checked, nor their routes attributed.')
  }
  for (let i = 1; i < withMeta.length; i++) {
    const [before, after] = [withMeta[i - 1]!, withMeta[i]!]
    const [a, b] = [before.metadata!, after.metadata!]
    if (a.pid !== b.pid) throw new HeapProfileFormatError(`${after.file} comes from process ${b.pid}, ${before.file} from ${a.pid}: compare profiles of one process`)
    if (a.since !== b.since) {
      throw new HeapProfileFormatError(`${after.file} comes from a sampling started at ${b.since}, ${before.file} from one started at ${a.since}: ` +
        'a profile holds what was sampled since its start, so only profiles of one sampling run compare')
    }
    if (Date.parse(b.takenAt) < Date.parse(a.takenAt)) throw new HeapProfileFormatError(`${after.file} was taken before ${before.file}: give the profiles in the order they were taken`)
  }
  return notes
}

/**
 * The stack shown for a site: the one that grew most (with one profile, that holds most), among
 * those under the site's route when it has one, so that the route's handler is on it. V8's
 * sampling profiler records one frame per physical stack frame (an inlined callee has none of its
 * own), so a shared helper the JIT did not inline is one site for all its callers: Node 26 (V8 14)
 * charges Node's `_addListener` with what Node 24 charged to `addListener` it was inlined into,
 * and the helper's biggest stack can be a socket's `Readable.on` in a driver's continuation, with
 * no app frame, while its growth came through the app's call under the route.
 */
function shownStack (first: Map<string, LiveStack>, last: Map<string, LiveStack>, route: SiteRoute | null, compare: boolean): LiveStack {
  let best: LiveStack | undefined
  let bestGrowth = 0
  for (const [key, stack] of last) {
    if (route !== null && stack.route !== route.route) continue
    const growth = stack.bytes - (compare ? first.get(key)?.bytes ?? 0 : 0)
    if (best === undefined || growth > bestGrowth || (growth === bestGrowth && stack.bytes > best.bytes)) {
      best = stack
      bestGrowth = growth
    }
  }
  return best ?? [...last.values()].reduce((a, b) => (b.bytes > a.bytes ? b : a))
}

function siteRoute (first: Map<string, LiveStack>, last: Map<string, LiveStack>, profiles: readonly HeapProfile[], compare: boolean): SiteRoute | null {
  const growth = new Map<string, number>()
  for (const [key, stack] of last) {
    if (stack.route === null) continue
    const delta = stack.bytes - (compare ? first.get(key)?.bytes ?? 0 : 0)
    growth.set(stack.route, (growth.get(stack.route) ?? 0) + delta)
  }
  const [route, bytes] = [...growth].reduce<[string, number] | [null, 0]>((best, entry) => (best[0] === null || entry[1] > best[1] ? entry : best), [null, 0])
  if (route === null) return null
  const requests = requestsOf(profiles.at(-1)!, route) - (compare ? requestsOf(profiles[0]!, route) : 0)
  return { route, requests, bytesPerRequest: requests > 0 ? Math.round(bytes / requests) : null }
}

function requestsOf (profile: HeapProfile, route: string): number {
  return profile.metadata?.routes.find((r) => r.route === route)?.requests ?? 0
}

function summary (profile: HeapProfile, bySite: Map<string, Map<string, LiveStack>>): HeapProfileSummary {
  const liveBytes = sum([...bySite.values()].flatMap((stacks) => [...stacks.values()].map((s) => s.bytes)))
  const meta = profile.metadata
  return {
    file: profile.file,
    samples: profile.sampleCount,
    liveBytes,
    ...(meta === null
      ? {}
      : {
          pid: meta.pid,
          takenAt: meta.takenAt,
          since: meta.since,
          intervalBytes: meta.intervalBytes,
          requestCounts: Object.fromEntries(meta.routes.map((r) => [r.route, r.requests]))
        })
  }
}

function sum (values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}
