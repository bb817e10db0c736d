import { HeapSnapshotFormatError } from './errors.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const STRUCTURAL = [QUOTE, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET]
const UNKNOWN = -2

/**
 * Finds the end of one JSON value in a byte stream without building it, and optionally keeps
 * its bytes (for the small `snapshot` header). Used to skip `trace_tree`, `samples`, `locations`...
 */
export class JsonValueScanner {
  readonly #name: string
  readonly #captureLimit: number
  #parts: Uint8Array[] = []
  #captured = 0
  #depth = 0
  #inString = false
  #escape = false
  /** Per structural byte: its next position in #searched, -1 for none left, UNKNOWN before looking. */
  readonly #found = new Float64Array(STRUCTURAL.length)
  #searched: Buffer | null = null

  /** `captureLimit` 0 skips the value; otherwise its bytes are kept, up to that many. */
  constructor (name: string, captureLimit = 0) {
    this.#name = name
    this.#captureLimit = captureLimit
  }

  /**
   * Scans from the value's first byte. Returns the index just after the value, or -1 when the
   * chunk ends first. A number, `true`, `false` or `null` ends before the next `,` or `}`.
   */
  read (buf: Buffer, start: number): number {
    const end = this.#findEnd(buf, start)
    this.#capture(buf, start, end === -1 ? buf.length : end)
    return end
  }

  /** The captured bytes, decoded. */
  text (): string {
    return Buffer.concat(this.#parts).toString('utf8')
  }

  #findEnd (buf: Buffer, start: number): number {
    for (let i = start; i < buf.length; i++) {
      if (!this.#inString && this.#depth > 0) {
        i = this.#nextStructural(buf, i)
        if (i === -1) return -1
      }
      const c = buf[i]
      if (this.#inString) {
        if (this.#escape) this.#escape = false
        else if (c === BACKSLASH) this.#escape = true
        else if (c === QUOTE) {
          this.#inString = false
          if (this.#depth === 0) return i + 1
        }
      } else if (c === QUOTE) {
        this.#inString = true
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.#depth++
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.#depth === 0) return i
        if (--this.#depth === 0) return i + 1
      } else if (c === COMMA && this.#depth === 0) {
        return i
      }
    }
    return -1
  }

  /**
   * Inside an array or object, only quotes and brackets matter: jump to the next one with
   * native searches (the skipped sections are mostly long arrays of numbers).
   */
  #nextStructural (buf: Buffer, from: number): number {
    if (buf !== this.#searched) {
      this.#searched = buf
      this.#found.fill(UNKNOWN)
    }
    let next = -1
    for (let k = 0; k < STRUCTURAL.length; k++) {
      let at = this.#found[k] as number
      if (at !== -1 && at < from) at = this.#found[k] = buf.indexOf(STRUCTURAL[k] as number, from)
      if (at !== -1 && (next === -1 || at < next)) next = at
    }
    return next
  }

  #capture (buf: Buffer, start: number, end: number): void {
    if (this.#captureLimit === 0) return
    this.#captured += end - start
    if (this.#captured > this.#captureLimit) {
      throw new HeapSnapshotFormatError(`not a V8 heap snapshot: the "${this.#name}" header is larger than ${this.#captureLimit} bytes`)
    }
    this.#parts.push(Uint8Array.prototype.slice.call(buf, start, end))
  }
}
