import { readFileSync } from 'node:fs'
import type { Expectation, MemorySeries } from './replay.js'

/** What recorder.ts writes. */
interface Recording { startedAt: string, heapLimitBytes: number, samples: MemorySeries['samples'], majorGcs: MemorySeries['majorGcs'] }

export interface SeriesLabel {
  name: string
  description: string
  expected: Expectation
  /** The command that recorded it, to record it again. */
  command: string
  /** When the load started (epoch ms). */
  loadStartedAt: number
}

/** A recorder.ts file as a backtest series (test/fixtures/memory-series/). */
export function readRecording (file: string, label: SeriesLabel): MemorySeries & Record<string, unknown> {
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as Recording
  return {
    name: label.name,
    description: label.description,
    expected: label.expected,
    recordedAt: recorded.startedAt,
    command: label.command,
    node: process.version,
    loadStartedAtMs: label.loadStartedAt - Date.parse(recorded.startedAt),
    heapLimitBytes: recorded.heapLimitBytes,
    columns: ['tMs', 'heapUsed', 'rss', 'external', 'arrayBuffers', 'heapAfterGcLow', 'majorGcs', 'heapTotal', 'anonymousBytes', 'threads'],
    samples: recorded.samples,
    majorGcs: recorded.majorGcs
  }
}
