import { HeapProfileNotRunningError, HeapProfilerBusyError, HeapProfileSettingsConflictError, HeapProfilerUnavailableError } from '../errors.js'
import type { HeapProfileStatus, ProfilerMemory } from '../types/reports.js'
import { profilerMemory } from './profiler-memory.js'
import type { SamplingProfile } from './sampling-profile.js'

export interface SamplingSettings {
  intervalBytes: number
  stackDepth: number
}

/** Posts an inspector command and returns its result, or throws the inspector's error. */
export type InspectorPost = <T = Record<string, unknown>>(method: string, params?: object) => T

export interface HeapProfiler {
  /**
   * Starts sampling; `false` when it already runs with these very settings (idempotent). Throws
   * a 409 when it runs with others, or when V8's profiler is someone else's.
   */
  start (settings: SamplingSettings): boolean
  /** The live samples now, and the settings and start they belong to. */
  read (): { profile: SamplingProfile, settings: SamplingSettings, since: Date }
  /** Stops sampling; `false` when it was not running (idempotent). */
  stop (): boolean
  status (): HeapProfileStatus
}

// V8 has one sampling heap profiler per isolate, whichever session drives it: this records which
// plugin instance started it, so that a second instance is told so (a module-level value is
// shared by every instance loaded from this copy of the package; another copy is caught below
// like any other user).
let owner: symbol | null = null

// V8's words when the profiler is not running (inspector/v8-heap-profiler-agent-impl.cc).
const NOT_STARTED = /not started/i

export function createHeapProfiler ({ post, available }: { post: InspectorPost, available: boolean }): HeapProfiler {
  const self = Symbol('fastify-memory-diagnostics heap profiler')
  let running: { settings: SamplingSettings, since: Date } | null = null
  let lostAt: Date | null = null
  let memory: ProfilerMemory | null = null

  function ensureAvailable (): void {
    if (!available) throw new HeapProfilerUnavailableError()
  }

  // Someone else stopped V8's profiler under us (another session's stopSampling): forget it,
  // and say so instead of answering an empty profile.
  function lose (): never {
    running = null
    memory = null
    if (owner === self) owner = null
    lostAt = new Date()
    throw new HeapProfilerBusyError('it was stopped by another user of the heap profiler in this process (another inspector session, DevTools); POST /heap-profile starts it again')
  }

  function othersAreSampling (): boolean {
    try {
      post('HeapProfiler.getSamplingProfile')
      return true
    } catch (error) {
      if (NOT_STARTED.test((error as Error).message)) return false
      throw error
    }
  }

  return {
    start (settings) {
      ensureAvailable()
      if (running !== null) {
        const same = running.settings.intervalBytes === settings.intervalBytes && running.settings.stackDepth === settings.stackDepth
        if (!same) throw new HeapProfileSettingsConflictError(describe(running.settings))
        return false
      }
      if (owner !== null) throw new HeapProfilerBusyError('another instance of fastify-memory-diagnostics in this process runs it; use that instance\'s /heap-profile')
      if (othersAreSampling()) {
        throw new HeapProfilerBusyError('another user of V8\'s heap profiler runs it in this process (DevTools, `--heap-prof`, @datadog/pprof or another profiler); its settings and data are not ours to change')
      }
      post('HeapProfiler.startSampling', { samplingInterval: settings.intervalBytes })
      owner = self
      running = { settings: { ...settings }, since: new Date() }
      lostAt = null
      memory = null
      return true
    },

    read () {
      ensureAvailable()
      if (running === null) throw new HeapProfileNotRunningError()
      let answer: { profile: SamplingProfile }
      try {
        answer = post<{ profile: SamplingProfile }>('HeapProfiler.getSamplingProfile')
      } catch (error) {
        if (NOT_STARTED.test((error as Error).message)) lose()
        throw error
      }
      memory = profilerMemory(answer.profile, new Date())
      return { profile: answer.profile, settings: running.settings, since: running.since }
    },

    stop () {
      if (running === null) return false
      running = null
      memory = null
      if (owner === self) owner = null
      try {
        post('HeapProfiler.stopSampling')
      } catch (error) {
        // already stopped by someone else: stopped is what was asked
        if (!NOT_STARTED.test((error as Error).message)) throw error
      }
      return true
    },

    status () {
      return {
        available,
        running: running !== null,
        intervalBytes: running?.settings.intervalBytes ?? null,
        stackDepth: running?.settings.stackDepth ?? null,
        since: running?.since.toISOString() ?? null,
        stoppedByOtherAt: lostAt?.toISOString() ?? null,
        memory
      }
    }
  }
}

function describe ({ intervalBytes, stackDepth }: SamplingSettings): string {
  return `intervalBytes=${intervalBytes}, stackDepth=${stackDepth}`
}
