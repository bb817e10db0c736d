import { mb } from './phases.js'
import type { Sample } from './sampler.js'

/** Where progress goes: the terminal, or a log when `isTTY` is not set. */
export interface ProgressStream {
  readonly isTTY?: boolean
  write (text: string): unknown
}

// Without a terminal to redraw one line in, a line every this many seconds keeps a log readable.
const LOG_EVERY_SECONDS = 5

export function progressLine (secondsSinceStart: number, phase: string, sample: Sample): string {
  return `${stamp(secondsSinceStart)} ${phase.padEnd(8)} heapUsed ${mb(sample.heapUsed).padStart(9)}  RSS ${mb(sample.rss).padStart(9)}  Mongoose connections ${sample.mongooseConnections}`
}

/** "2/3 45%": which snapshot of how many is being read, and how far. */
export function readingShown (index: number, files: number, bytesRead: number, totalBytes: number): string {
  return `${index + 1}/${files} ${Math.floor(bytesRead / Math.max(1, totalBytes) * 100)}%`
}

function stamp (secondsSinceStart: number): string {
  return `[${secondsSinceStart.toFixed(0).padStart(3)} s]`
}

/** The demo's running commentary: lines stamped with the seconds since it started, and a live line on a terminal. */
export class Progress {
  readonly #stream: ProgressStream
  readonly #secondsSinceStart: () => number
  #lastReading = ''

  constructor (stream: ProgressStream, secondsSinceStart: () => number) {
    this.#stream = stream
    this.#secondsSinceStart = secondsSinceStart
  }

  say (line: string): void {
    this.#stream.write(`${stamp(this.#secondsSinceStart())} ${line}\n`)
  }

  /** The latest memory figures: redrawn in place on a terminal, every few seconds in a log. */
  show (phase: string, sample: Sample | undefined): void {
    if (sample === undefined) return
    const line = progressLine(this.#secondsSinceStart(), phase, sample)
    if (this.#stream.isTTY === true) this.#stream.write(`\r${line}\x1b[K`)
    else if (Math.round(sample.t) % LOG_EVERY_SECONDS === 0) this.#stream.write(`${line}\n`)
  }

  /** How far find-leaks has read, on a terminal only, when it changed. */
  reading (label: string, shown: string): void {
    if (this.#stream.isTTY !== true || shown === this.#lastReading) return
    this.#lastReading = shown
    this.#stream.write(`\r${stamp(this.#secondsSinceStart())} find-leaks ${label}: reading snapshot ${shown}\x1b[K`)
  }

  /** Clears the live line so that the next line starts clean. */
  endLine (): void {
    if (this.#stream.isTTY === true) this.#stream.write('\r\x1b[K')
  }
}
