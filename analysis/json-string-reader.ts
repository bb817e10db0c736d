import { HeapSnapshotFormatError } from './errors.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * Reads one JSON string from a byte stream, across chunk boundaries: raw bytes are kept until
 * the closing quote so that UTF-8 sequences and escapes split between chunks decode correctly.
 */
export class JsonStringReader {
  #parts: Uint8Array[] = []
  #pendingHasEscape = false
  #trailingBackslashes = 0
  #value = ''
  /** Next backslash at or after #scanFrom in #scanBuffer: one native scan serves many short strings. */
  #scanBuffer: Buffer | null = null
  #nextBackslash = -1

  /**
   * Reads the rest of a string whose opening quote was consumed. Returns the index just after
   * the closing quote (the string is then in `value`), or -1 when the chunk ends first.
   */
  read (buf: Buffer, start: number): number {
    let from = start
    for (;;) {
      const quote = buf.indexOf(QUOTE, from)
      if (quote === -1) {
        this.#keep(buf, start, buf.length)
        return -1
      }
      if (!this.#isEscaped(buf, start, quote)) {
        this.#finish(buf, start, quote)
        return quote + 1
      }
      from = quote + 1
    }
  }

  get value (): string {
    return this.#value
  }

  #isEscaped (buf: Buffer, start: number, quote: number): boolean {
    let i = quote - 1
    while (i >= start && buf[i] === BACKSLASH) i--
    let run = quote - 1 - i
    if (i < start) run += this.#trailingBackslashes
    return run % 2 === 1
  }

  #keep (buf: Buffer, start: number, end: number): void {
    if (end === start) return
    const part = new Uint8Array(end - start)
    part.set(buf.subarray(start, end))
    this.#parts.push(part)
    let i = end - 1
    while (i >= start && buf[i] === BACKSLASH) i--
    const run = end - 1 - i
    this.#trailingBackslashes = i < start ? this.#trailingBackslashes + run : run
    if (this.#hasBackslash(buf, start, end)) this.#pendingHasEscape = true
  }

  #hasBackslash (buf: Buffer, start: number, end: number): boolean {
    if (buf !== this.#scanBuffer || (this.#nextBackslash !== -1 && this.#nextBackslash < start)) {
      this.#scanBuffer = buf
      this.#nextBackslash = buf.indexOf(BACKSLASH, start)
    }
    return this.#nextBackslash !== -1 && this.#nextBackslash < end
  }

  #finish (buf: Buffer, start: number, quote: number): void {
    let text: string
    let escaped: boolean
    if (this.#parts.length === 0) {
      text = buf.toString('utf8', start, quote)
      escaped = this.#hasBackslash(buf, start, quote)
    } else {
      this.#keep(buf, start, quote)
      text = Buffer.concat(this.#parts).toString('utf8')
      escaped = this.#pendingHasEscape
      this.#parts = []
      this.#pendingHasEscape = false
      this.#trailingBackslashes = 0
    }
    this.#value = escaped ? decodeEscapes(text) : text
  }
}

function decodeEscapes (text: string): string {
  try {
    return JSON.parse(`"${text}"`) as string
  } catch (err) {
    throw new HeapSnapshotFormatError(`not a V8 heap snapshot: invalid JSON string "${text.slice(0, 40)}"`, { cause: err })
  }
}
