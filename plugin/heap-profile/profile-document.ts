import { hostname } from 'node:os'
import type { FunctionLocation } from './function-location.js'
import type { SamplingSettings } from './profiler.js'
import type { SamplingNode, SamplingProfile } from './sampling-profile.js'
import { sourcePositions } from './source-positions.js'
import type { SourcePosition } from './source-positions.js'
import { cutStacks } from './stack-depth.js'

/** The key of the field the plugin adds to a `.heapprofile`; DevTools and speedscope ignore it. */
export const PROFILE_METADATA_KEY = 'memoryDiagnostics'

/** A route the profile knows: its request count and where its handler is (to find it on a stack). */
export interface ProfiledRoute {
  /** `"POST /leaking-posts"`. */
  route: string
  /** Handler calls since the plugin started. */
  requests: number
  /** The handler's location as the profile's call frames give it, `url` from the frames that share its script. */
  handler: (FunctionLocation & { url: string | null }) | null
}

export interface ProfileMetadata {
  v: 1
  pid: number
  hostname: string
  /** When the profile was read (ISO 8601). */
  takenAt: string
  /** When the sampling it comes from started: profiles with the same `since` compare. */
  since: string
  intervalBytes: number
  stackDepth: number
  routes: ProfiledRoute[]
  /** With `?sourceMaps=true`: original positions of frames from source-mapped code (TypeScript, bundles), keyed `url:line:column` as the frames give them. */
  sourcePositions: Record<string, SourcePosition>
}

export type HeapProfileDocument = SamplingProfile & { [PROFILE_METADATA_KEY]: ProfileMetadata }

export interface ProfileInput {
  profile: SamplingProfile
  settings: SamplingSettings
  since: Date
  takenAt: Date
  counts: Record<string, number>
  /** Each counted route's handler location (null when it could not be found). */
  handlers: Map<string, FunctionLocation | null>
  /** Map the frames through the source maps Node has (it parses and then keeps each map it is asked for). */
  sourceMaps: boolean
}

/** The `.heapprofile` the routes answer: V8's profile (stacks cut to `stackDepth`) and what the analysis needs with it. */
export function profileDocument ({ profile, settings, since, takenAt, counts, handlers, sourceMaps }: ProfileInput): HeapProfileDocument {
  const cut = cutStacks(profile, settings.stackDepth)
  const urls = scriptUrls(cut.head)
  const routes: ProfiledRoute[] = Object.entries(counts).map(([route, requests]) => {
    const location = handlers.get(route) ?? null
    return { route, requests, handler: location === null ? null : { ...location, url: urls.get(location.scriptId) ?? null } }
  })
  return {
    ...cut,
    [PROFILE_METADATA_KEY]: {
      v: 1,
      pid: process.pid,
      hostname: hostname(),
      takenAt: takenAt.toISOString(),
      since: since.toISOString(),
      intervalBytes: settings.intervalBytes,
      stackDepth: settings.stackDepth,
      routes,
      sourcePositions: sourceMaps ? sourcePositions(cut.head) : {}
    }
  }
}

function scriptUrls (head: SamplingNode): Map<string, string> {
  const urls = new Map<string, string>()
  const pending = [head]
  while (pending.length > 0) {
    const node = pending.pop()!
    if (node.callFrame.url !== '') urls.set(node.callFrame.scriptId, node.callFrame.url)
    pending.push(...node.children)
  }
  return urls
}
