import type { TrendReport, TrendVerdict } from '../types/trend.js'

/**
 * A verdict changes only when this many assessments in a row agree: real series cross a
 * threshold for a sample or two (measured: steady traffic at +5.0% for 2 isolated seconds of 300).
 */
const CONFIRMATIONS = 3

/** What one assessment says, from the samples alone. */
export interface Assessment {
  verdict: TrendVerdict
  /** One sentence with the figures behind it. */
  reason: string
}

export interface Ballot {
  assessment: Assessment
  /** The report before this assessment, `null` for the first. */
  previous: TrendReport | null
  now: number
  windowMs: number
}

export type Vote = Pick<TrendReport, 'verdict' | 'since' | 'reason' | 'latest' | 'grewAt'> & {
  /** The previous verdict stands, this assessment not yet confirmed. */
  held: boolean
}

export function isGrowing (verdict: TrendVerdict | undefined): boolean {
  return verdict === 'growing-heap' || verdict === 'growing-native'
}

/** The verdict once the latest assessment is weighed against the ones before it. */
export function vote ({ assessment, previous, now, windowMs }: Ballot): Vote {
  let { verdict, reason } = assessment
  const continues = previous !== null && previous.latest.verdict === verdict
  const latest = {
    verdict,
    assessments: continues ? previous.latest.assessments + 1 : 1,
    since: continues ? previous.latest.since : new Date(now).toISOString()
  }
  let held = false
  const grewAt = isGrowing(previous?.verdict) ? new Date(now).toISOString() : previous?.grewAt ?? null
  const sinceGrowthMs = grewAt === null ? Infinity : now - Date.parse(grewAt)
  if (verdict === 'steady' && sinceGrowthMs < windowMs) {
    // A leak once reported is cleared by a whole window without growth, not by one GC cycle that
    // looked flat: until then it is undecided.
    verdict = 'insufficient-data'
    reason = `growing until ${grewAt}; ${Math.round(sinceGrowthMs / 1000)} s of the ${windowMs / 1000} s without growth it takes to call it steady (${reason})`
  } else if (previous !== null && verdict !== previous.verdict && latest.assessments < CONFIRMATIONS) {
    reason = `still ${previous.verdict}: ${verdict} for ${latest.assessments} of the ${CONFIRMATIONS} assessments in a row it takes to change (${reason})`
    verdict = previous.verdict
    held = true
  }
  return { verdict, since: sinceFor(verdict, now, previous), reason, latest, grewAt, held }
}

function sinceFor (verdict: TrendVerdict, now: number, previous: TrendReport | null): string | null {
  if (verdict === 'steady') return null
  if (previous !== null && previous.verdict === verdict) return previous.since
  return new Date(now).toISOString()
}
