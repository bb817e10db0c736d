// Preloaded into a process (`node --import tsx --import ./bench/memory-series/recorder.ts app.ts`)
// with MEMDIAG_RECORD=<file>: every second it records what the leak verdict reads, and rewrites
// the file every 5 s so that a killed process still leaves its series behind.
import { readFileSync, writeFileSync } from 'node:fs'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import type { PerformanceEntry } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

const file = process.env.MEMDIAG_RECORD
// Only this process: the demo's database launcher passes loader flags and the environment on to
// the database server, which would otherwise record into the same file.
delete process.env.MEMDIAG_RECORD
if (file !== undefined && file !== '') startRecording(file)

function startRecording (path: string): void {
  const started = Date.now()
  // one row per second: [t ms, heapUsed, rss, external, arrayBuffers, lowest heapUsed read right after a GC of any kind (or null), major GCs in the second,
  //   heapTotal, anonymous memory in bytes (smaps_rollup, or null), threads (or null)]
  const samples: Array<[number, number, number, number, number, number | null, number, number, number | null, number | null]> = []
  // [t ms, heapUsed read right after the major GC]
  const majorGcs: Array<[number, number]> = []
  let floor: number | null = null
  let majors = 0
  const observer = new PerformanceObserver((list) => {
    const heapUsed = getHeapStatistics().used_heap_size
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        majors++
        majorGcs.push([Date.now() - started, heapUsed])
      }
    }
    floor = floor === null ? heapUsed : Math.min(floor, heapUsed)
  })
  observer.observe({ entryTypes: ['gc'] })
  const tick = setInterval(() => {
    const usage = process.memoryUsage()
    samples.push([Date.now() - started, usage.heapUsed, usage.rss, usage.external, usage.arrayBuffers, floor, majors, usage.heapTotal, anonymousBytes(), threads()])
    floor = null
    majors = 0
  }, 1000)
  tick.unref()
  const flush = (): void => {
    const { heap_size_limit: heapLimitBytes } = getHeapStatistics()
    writeFileSync(path, JSON.stringify({ startedAt: new Date(started).toISOString(), heapLimitBytes, samples, majorGcs }))
  }
  setInterval(flush, 5000).unref()
  process.on('exit', flush)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => { flush(); process.exit(0) })
  }
}

/** The `Anonymous:` line of /proc/self/smaps_rollup in bytes (anonymous memory: the heap, malloc, mmap), or null where it cannot be read. */
function anonymousBytes (): number | null {
  try {
    const match = /^Anonymous:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps_rollup', 'latin1'))
    return match === null ? null : Number(match[1]) * 1024
  } catch {
    return null
  }
}

/** The `Threads:` line of /proc/self/status, or null where it cannot be read. */
function threads (): number | null {
  try {
    const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))
    return match === null ? null : Number(match[1])
  } catch {
    return null
  }
}
