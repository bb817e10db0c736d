import type { LeakCandidate, LeakReport } from '../../analysis/index.js'
import { growthPerThousand, mb } from './phases.js'
import type { PhaseResult } from './phases.js'

// A leak candidate is above the noise when it kept at least one object per this many requests of
// the phase's route in every interval (in-flight requests and caches warming keep a handful).
const NOISE_REQUESTS_PER_OBJECT = 100

/** The candidates that kept at least one object per NOISE_REQUESTS_PER_OBJECT requests of `endpoint` in every interval. */
export function aboveNoise (report: LeakReport, endpoint: string): LeakCandidate[] {
  const requests = report.requestsPerInterval
  // The plugin's own bounded state (its jobs, its trend window) is no leak of the app.
  const candidates = report.candidates.filter((c) => c.pluginState !== true)
  if (requests === undefined) return candidates
  return candidates.filter((c) => c.countPerInterval.every((n, i) => n > 0 && n >= (requests[i]?.[endpoint] ?? 0) / NOISE_REQUESTS_PER_OBJECT))
}

export function perRequestOf (candidate: LeakCandidate, endpoint: string): number | null {
  // The phase drove this endpoint: a figure "as if it alone" made them is its figure (a route polled
  // in proportion, GET /stats, makes it ambiguous), but not the most a fit leaves possible.
  const share = candidate.perRoute?.find((s) => s.route === endpoint)
  return share === undefined || share.basis === 'possible' ? null : share.objectsPerRequest
}

export function verdictLine (culprit: LeakCandidate | null, leaking: PhaseResult, fixed: PhaseResult, fixedLeaks: LeakCandidate[]): string {
  const fixedPart = fixedLeaks.length === 0
    ? `${fixed.endpoint} leaves no leak candidate above the noise (heap ${mb(growthPerThousand(fixed, (s) => s.heapUsed))} per 1,000 requests)`
    : `${fixed.endpoint} also keeps ${fixedLeaks.map((c) => c.className).join(', ')}`
  if (culprit === null) return `Verdict: no leak candidate above the noise for ${leaking.endpoint}; ${fixedPart}.`
  const perRequest = perRequestOf(culprit, leaking.endpoint)
  return `Verdict: ${leaking.endpoint} leaks ${perRequest === null ? '?' : perRequest.toFixed(2)} ${culprit.className} per request ` +
    `(+${culprit.countPerInterval.reduce((a, b) => a + b, 0)} still alive, heap ${mb(growthPerThousand(leaking, (s) => s.heapUsed))} per 1,000 requests), ` +
    `held by ${culprit.collection.kind} ${culprit.collection.label}; ${fixedPart}.`
}
