import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { findGrowingSites, findLeaks } from '../../analysis/index.js'
import type { LeakReport } from '../../analysis/index.js'
import { drive } from '../drive.js'
import type { TargetName } from '../targets.js'
import type { DemoOptions } from './options.js'
import { mb } from './phases.js'
import type { PhaseResult } from './phases.js'
import { pluginVerdict } from './plugin-verdict.js'
import { profileCulprit } from './profile-verdict.js'
import { readingShown } from './progress.js'
import type { DemoResult } from './report.js'
import type { DemoSession } from './session.js'
import { aboveNoise, verdictLine } from './verdict.js'

interface PhaseOptions {
  name: string
  target: TargetName
  seconds: number
  /** A snapshot taken halfway, the phase being driven in two halves around it. */
  midSnapshot?: string
  connections: number
  maxRequests?: number
}

type DrivenPhase = PhaseResult & { midFile?: string }

/**
 * The demo from start to verdict: starts the app, drives the fixed endpoint then the leaking one
 * with three snapshots each, stops the app, and names the culprit with the leak finder.
 */
export async function runDemo (options: DemoOptions, session: DemoSession): Promise<DemoResult> {
  const { progress } = session
  const snapshotDir = join(options.outDir, 'snapshots')
  await rm(options.outDir, { recursive: true, force: true })
  await mkdir(snapshotDir, { recursive: true })
  progress.say('starting the demo app (and its database) in child processes…')
  await session.start()
  progress.say(`demo app ready on ${session.app.url} (pid ${session.app.pid})`)

  // Warm-up: every tenant's correct connection and model exist, and the leaking code path has run
  // once per tenant, so first-time allocations do not show up as growth in the comparisons.
  await runPhase(session, snapshotDir, options, { name: 'warm-up', target: 'posts', seconds: options.warmupSeconds, connections: options.connections })
  await drive({ target: 'leaking-posts', url: session.app.url, durationSeconds: 1, connections: 1, tenants: options.tenants, render: false })
  // The three-snapshot workflow, twice: A → B → C over the fixed endpoint, C → D → E over the
  // leaking one. The finder keeps what was allocated in every interval and is still alive in the
  // last snapshot, so a phase needs its own three snapshots.
  const a = await snapshot(session, snapshotDir, 'A')
  const fixed = await runPhase(session, snapshotDir, options, { name: 'fixed', target: 'posts', seconds: options.fixedSeconds, midSnapshot: 'B', connections: options.connections })
  // The sampling heap profile over the same interval as the snapshots C → D → E: a profile is
  // read just after each of them (in production, what is left when the guard refuses a snapshot).
  await session.client().startHeapProfile(options.profileIntervalBytes)
  const profiles: string[] = []
  session.heapProfiles = profiles
  const c = await snapshot(session, snapshotDir, 'C')
  const leaking = await runPhase(session, snapshotDir, options, {
    name: 'leaking', target: 'leaking-posts', seconds: options.phaseSeconds, midSnapshot: 'D', connections: options.leakingConnections, maxRequests: options.leakingRequests
  })
  const e = await snapshot(session, snapshotDir, 'E')
  session.phase = 'end'
  const final = await session.sampler.sampleNow() ?? null
  await session.stop()
  progress.say('demo app stopped; looking for leaks across the snapshots…')

  const fixedReport = await leaksOver(session, [a, fixed.midFile!, c], 'A→B→C')
  const leakingReport = await leaksOver(session, [c, leaking.midFile!, e], 'C→D→E')
  const profileReport = await findGrowingSites(profiles)
  const fixedLeaks = aboveNoise(fixedReport, fixed.endpoint)
  const culprit = aboveNoise(leakingReport, leaking.endpoint)[0] ?? null
  return {
    fixed,
    leaking,
    fixedReport,
    leakingReport,
    profileReport,
    profileCulprit: profileCulprit(profileReport, leaking.endpoint),
    fixedLeaks,
    culprit,
    verdict: verdictLine(culprit, leaking, fixed, fixedLeaks),
    samples: session.sampler.samples,
    final,
    snapshotMarks: session.snapshotMarks
  }
}

async function runPhase (session: DemoSession, snapshotDir: string, options: DemoOptions, phase: PhaseOptions): Promise<DrivenPhase> {
  const { name, target, midSnapshot, maxRequests } = phase
  session.phase = name
  const first = await session.sampler.sampleNow()
  const start = session.secondsSinceStart()
  const halves = midSnapshot === undefined ? [phase.seconds] : [phase.seconds / 2, phase.seconds / 2]
  let requests = 0
  let requestsPerSecond = 0
  let failures = 0
  let midFile: string | undefined
  for (const [i, durationSeconds] of halves.entries()) {
    if (i > 0 && midSnapshot !== undefined) {
      midFile = await snapshot(session, snapshotDir, midSnapshot)
      session.phase = name
    }
    const summary = await drive({
      target,
      url: session.app.url,
      durationSeconds,
      connections: phase.connections,
      ...(maxRequests === undefined ? {} : { maxRequests: Math.ceil(maxRequests / halves.length) }),
      tenants: options.tenants,
      render: false
    })
    requests += summary.requests
    failures += summary.failures
    requestsPerSecond += summary.requestsPerSecond / halves.length
  }
  const last = await session.sampler.sampleNow()
  session.progress.endLine()
  if (first === undefined || last === undefined) throw new Error(`could not read /memory around the ${name} phase`)
  requestsPerSecond = Math.round(requestsPerSecond)
  session.progress.say(`${name}: ${requests} requests to /${target} (${requestsPerSecond} req/s, ${failures} failed), heapUsed ${mb(first.heapUsed)} → ${mb(last.heapUsed)}`)
  session.progress.say(`${name}: the plugin's verdict (GET /memory): ${pluginVerdict(last)}`)
  return { name, endpoint: `POST /${target}`, start, end: session.secondsSinceStart(), requests, requestsPerSecond, first, last, ...(midFile === undefined ? {} : { midFile }) }
}

/** Takes a snapshot through the plugin into `snapshotDir`, and marks what it cost the process for the chart. */
async function snapshot (session: DemoSession, snapshotDir: string, label: string): Promise<string> {
  session.phase = `snap ${label}`
  const file = join(snapshotDir, `${label}.heapsnapshot.gz`)
  const started = Date.now()
  const client = session.client()
  const { bytes } = await client.snapshotTo(file)
  session.progress.endLine()
  // What the snapshot did to the process, from the plugin's own record of it (GET /memory).
  const memory = await client.memory().catch(() => null)
  const last = memory?.snapshot?.last ?? null
  const rssBefore = last?.rssBeforeBytes ?? null
  session.snapshotMarks.push({
    label,
    t: (started - session.startedAt) / 1000,
    blockedMs: last?.durationMs ?? null,
    rssLeftBytes: rssBefore === null || memory === null ? null : memory.process.rss - rssBefore
  })
  session.progress.say(`snapshot ${label}: ${mb(bytes)} gzipped in ${((Date.now() - started) / 1000).toFixed(1)} s → ${file}`)
  if (session.heapProfiles !== null) await heapProfile(session, snapshotDir, label)
  return file
}

/** Reads the heap profile through the plugin into `snapshotDir`, next to the snapshot `label`. */
async function heapProfile (session: DemoSession, snapshotDir: string, label: string): Promise<void> {
  const file = join(snapshotDir, `${label}.heapprofile`)
  const started = Date.now()
  // source maps only in the last: Node parses and then keeps each map, which later profiles would show as growth
  const { bytes } = await session.client().heapProfileTo(file, { sourceMaps: label === 'E' })
  session.heapProfiles!.push(file)
  session.progress.say(`heap profile ${label}: ${(bytes / 1024).toFixed(0)} KB in ${((Date.now() - started) / 1000).toFixed(1)} s → ${file}`)
}

async function leaksOver (session: DemoSession, files: string[], label: string): Promise<LeakReport> {
  const report = await findLeaks(files, {
    onProgress: (p) => session.progress.reading(label, readingShown(p.index, files.length, p.bytesRead, p.totalBytes))
  })
  session.progress.endLine()
  return report
}
