import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AppCallSite, GrowingSitesReport, SiteFrame } from '../../analysis/index.js'

/** The app's call whose allocations grew most under `endpoint` in the heap profiles, or null. */
export function profileCulprit (report: GrowingSitesReport, endpoint: string): AppCallSite | null {
  return report.appCalls.find((call) => call.route?.route === endpoint) ?? null
}

/** `postModel (demo-app/tenants/leaking-tenant-connections.ts:22)`: the source position when the profile had the source map. */
export function frameText (frame: SiteFrame): string {
  const { url, line } = frame.source ?? frame
  return `${frame.functionName} (${displayPath(url)}:${line})`
}

function displayPath (url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  return path.startsWith('/') ? relative(process.cwd(), path) : path
}

export function profileVerdictLine (culprit: AppCallSite | null, endpoint: string): string {
  if (culprit === null) return `Heap profile: no allocation by the app's own code grew in every interval under ${endpoint}.`
  const perRequest = culprit.route?.bytesPerRequest
  return `Heap profile (C D E): ${endpoint} grows ${perRequest === null || perRequest === undefined ? '?' : `${(perRequest / 1000).toFixed(1)} kB`} of live heap per request ` +
    `allocated under ${frameText(culprit.frame)}${culprit.callee === null ? '' : ` → ${frameText(culprit.callee)}`}, the first growing app call.`
}
