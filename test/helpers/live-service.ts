// Real services of test/fixtures/leak-service.ts in child processes, under real HTTP load, their
// leak verdict read every second through the plugin's GET /memory: the live verdict tests.
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { readRecording } from '../../bench/memory-series/recording.js'
import type { Expectation } from '../../bench/memory-series/replay.js'
import { freePort } from '../../load/free-port.js'
import { uncoveredChildEnv } from './child-env.js'

const SERVICE = fileURLToPath(new URL('../fixtures/leak-service.ts', import.meta.url))
const RECORDER = fileURLToPath(new URL('../../bench/memory-series/recorder.ts', import.meta.url))
const TOKEN = 'live-verdict-token-0123456789'

export interface LiveApp {
  name: string
  expected: Expectation
  /** The service's MODE and its parameters. */
  env: Record<string, string>
}

export interface TimeToLimit { seconds: number, limit: string, bytesLeft: number, bytesPerMinute: number }
export interface Reading { atS: number, verdict: string, reason: string, timeToLimit: TimeToLimit | null }
export interface Watched { loadStartedAt: number, verdicts: Reading[] }

export interface LiveRun {
  /** Seconds of load. */
  seconds: number
  /** Requests per second to each service. */
  rate: number
}

/**
 * Starts every app (with the memory recorder preloaded), loads them all at once and reads their
 * verdicts every second. On a failure of `t` (or with MEMDIAG_KEEP_LIVE=1), each service's series is kept in the temp directory
 * as a backtest fixture (replay it with bench/memory-series/explain.ts); on a pass, removed.
 */
export async function watchLive (t: Test, apps: readonly LiveApp[], run: LiveRun): Promise<Watched[]> {
  const records = apps.map((app) => join(tmpdir(), `memdiag-live-${app.name}-${process.pid}.json`))
  const state: { watched?: Watched[] } = {}
  // Registered before any service starts (and so run after they are killed): a start that fails
  // leaves no recording behind either.
  t.teardown(() => {
    for (const [i, app] of apps.entries()) {
      if ((!t.passing() || process.env.MEMDIAG_KEEP_LIVE === '1') && state.watched !== undefined) {
        const kept = join(tmpdir(), `live-verdict-${app.name}-${process.pid}.json`)
        const label = { name: `live-verdict-${app.name}-${process.pid}`, description: `the live verdict test's ${app.name} service, kept on a failure`, expected: app.expected, command: 'test/helpers/live-service.ts', loadStartedAt: state.watched[i]!.loadStartedAt }
        writeFileSync(kept, JSON.stringify(readRecording(records[i]!, label)) + '\n')
        console.error(`live verdict: the ${app.name} service's memory series: ${kept}`)
      }
      rmSync(records[i]!, { force: true })
    }
  })
  const urls = await Promise.all(apps.map((app, i) => startService(t, app.env, records[i]!)))
  state.watched = await Promise.all(urls.map((url) => loadAndWatch(url, run)))
  return state.watched
}

async function startService (t: Test, env: Record<string, string>, record: string): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', RECORDER, SERVICE], {
    env: { ...uncoveredChildEnv(), ...env, PORT: String(port), DIAGNOSTICS_TOKEN: TOKEN, MEMDIAG_RECORD: record },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(`${url}/work`, { method: 'POST', signal: AbortSignal.timeout(1000) })
      return url
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`the ${env.MODE} service did not start`)
}

async function loadAndWatch (url: string, { seconds, rate }: LiveRun): Promise<Watched> {
  const started = Date.now()
  const watched: Watched = { loadStartedAt: started, verdicts: [] }
  const loaded = new Promise<void>((resolve) => {
    autocannon({ url: `${url}/work`, method: 'POST', connections: 10, overallRate: rate, duration: seconds }, () => resolve())
  })
  const state = { done: false }
  loaded.then(() => { state.done = true }, () => {})
  while (!state.done) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const res = await fetch(`${url}/diag/memory`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => null)
    if (res === null || !res.ok) continue
    const { trend } = await res.json() as { trend: Omit<Reading, 'atS'> }
    watched.verdicts.push({ atS: (Date.now() - started) / 1000, verdict: trend.verdict, reason: trend.reason, timeToLimit: trend.timeToLimit })
  }
  await loaded
  return watched
}

/** What to print on a failure: the verdict at every reading, and the reason at every change and every tenth reading. */
export function diagnostics (w: Watched): { verdicts: string, reasons: string[] } {
  return {
    verdicts: w.verdicts.map((v) => `${Math.round(v.atS)}:${v.verdict}`).join(' '),
    reasons: w.verdicts.filter((v, i) => i === 0 || v.verdict !== w.verdicts[i - 1]!.verdict || i % 10 === 0)
      .map((v) => `${Math.round(v.atS)} s ${v.verdict}: ${v.reason}`)
  }
}

/** A leak from the first request: its own kind within `withinS`, never steady, never the other kind. */
export function checkLeak (t: Test, app: LiveApp, watched: Watched, withinS: number): void {
  const first = watched.verdicts.find((v) => v.verdict === app.expected)
  t.ok(first !== undefined && first.atS <= withinS, `${app.name}: ${app.expected} after ${first?.atS.toFixed(0)} s of load`, diagnostics(watched))
  const wrong = watched.verdicts.find((v) => v.verdict === 'steady' || (v.verdict.startsWith('growing') && v.verdict !== app.expected))
  t.equal(wrong, undefined, `${app.name}: never steady, never the other kind: ${wrong?.verdict ?? ''} ${wrong?.reason ?? ''}`, diagnostics(watched))
}

/** Not a leak: never growing-*, never a time to the limit. */
export function checkNotGrowing (t: Test, app: LiveApp, watched: Watched): void {
  const growing = watched.verdicts.find((v) => v.verdict.startsWith('growing'))
  t.equal(growing, undefined, `${app.name}: never growing (${growing?.reason ?? ''})`, diagnostics(watched))
  t.ok(watched.verdicts.every((v) => v.timeToLimit === null), `${app.name}: no time to the limit`)
}
