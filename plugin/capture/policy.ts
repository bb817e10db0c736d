import type { TrendVerdict } from '../types/trend.js'
import { parse } from '@lukeed/ms'
import type { ResolvedCapture, RouteRateLimit } from '../types/options.js'

/** Why a capture happened. */
export type CaptureTrigger = 'growing-heap' | 'growing-native' | 'container-share'

/** One capture, as recorded in the snapshot directory (it survives restarts). */
export interface CaptureRecord {
  readonly kind: 'heap-snapshot' | 'heap-profile'
  /** Epoch ms. */
  readonly at: number
  readonly pid: number
  readonly trigger: CaptureTrigger
  /** The sentence logged with it. */
  readonly reason: string
  /** The snapshot's id, or the profile file's name. */
  readonly id: string
}

export interface CaptureObservation {
  /** Epoch ms. */
  readonly now: number
  readonly uptimeMs: number
  readonly verdict: TrendVerdict
  readonly verdictReason: string
  readonly container: { readonly usageBytes: number | null, readonly limitBytes: number | null }
}

export interface CaptureDecision {
  readonly trigger: CaptureTrigger
  readonly reason: string
  readonly snapshot: boolean
  readonly profile: boolean
}

/** The snapshot rate limit in milliseconds, read as @fastify/rate-limit reads it (`'10 minutes'` too). */
export interface SnapshotBudget {
  readonly max: number
  readonly windowMs: number
}

export function snapshotBudget (rateLimit: RouteRateLimit | false): SnapshotBudget | null {
  if (rateLimit === false) return null
  const windowMs = typeof rateLimit.timeWindow === 'number' ? rateLimit.timeWindow : parse(rateLimit.timeWindow) ?? 0
  return { max: rateLimit.max, windowMs }
}

/** The time between two captures: the configured spacing, or what the snapshot rate limit allows if longer. */
export function captureSpacingMs (settings: ResolvedCapture, rateLimit: SnapshotBudget | null): number {
  const allowed = rateLimit === null ? 0 : Math.ceil(rateLimit.windowMs / rateLimit.max)
  return Math.max(settings.spacingMs, allowed)
}

/** What triggers a capture now, or null. */
export function captureTrigger (observation: CaptureObservation, settings: ResolvedCapture): { trigger: CaptureTrigger, reason: string } | null {
  const { verdict, container } = observation
  if (settings.onVerdict && (verdict === 'growing-heap' || verdict === 'growing-native')) {
    return { trigger: verdict, reason: `the trend verdict is ${verdict}: ${observation.verdictReason}` }
  }
  const { usageBytes, limitBytes } = container
  if (settings.containerShare !== null && usageBytes !== null && limitBytes !== null && limitBytes > 0 && usageBytes >= settings.containerShare * limitBytes) {
    const share = Math.round(usageBytes / limitBytes * 100)
    return { trigger: 'container-share', reason: `the container uses ${share}% of its memory limit (capture.containerShare ${settings.containerShare})` }
  }
  return null
}

/**
 * Whether to capture now, and what. Nothing before `startAfterMs` of uptime, nothing within the
 * spacing of the last capture (of this process or one before it: the records survive restarts),
 * no snapshot beyond `maxSnapshots` over `periodMs` nor beyond the snapshot rate limit's `max`
 * in its window. A verdict that flaps only ever finds the spacing and the count in its way.
 */
export function decideCapture (observation: CaptureObservation, records: readonly CaptureRecord[], settings: ResolvedCapture, rateLimit: SnapshotBudget | null): CaptureDecision | null {
  if (observation.uptimeMs < settings.startAfterMs) return null
  const cause = captureTrigger(observation, settings)
  if (cause === null) return null
  const { now } = observation
  const last = records.reduce((latest, record) => Math.max(latest, record.at), -Infinity)
  if (now - last < captureSpacingMs(settings, rateLimit)) return null
  const snapshots = records.filter((record) => record.kind === 'heap-snapshot')
  const inPeriod = snapshots.filter((record) => now - record.at < settings.periodMs).length
  const inRateWindow = rateLimit === null ? 0 : snapshots.filter((record) => now - record.at < rateLimit.windowMs).length
  const snapshot = inPeriod < settings.maxSnapshots && (rateLimit === null || inRateWindow < rateLimit.max)
  const profile = settings.heapProfile
  if (!snapshot && !profile) return null
  return { ...cause, snapshot, profile }
}
