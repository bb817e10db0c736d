/**
 * Rewrites a `.heapsnapshot` as it streams by, replacing the values of strings with placeholders
 * while every name the analysis reads survives. The string table is shared: an entry is a value
 * when only nodes of type "string" are named by it, and a name when anything else is (a class,
 * a function, a script's URL, a property or variable, a dictionary's key). `nodes` and `edges` come
 * before `strings`, so one pass learns which entries are which (two bits per entry) and rewrites
 * the table as it comes; every other byte is copied as it is. Memory: the chunk being processed,
 * the two bitsets, and one candidate entry of at most `bufferCap` bytes.
 */

/** The text a redacted entry is replaced with: its length in UTF-16 units (what `.length` says). */
export function redactedPlaceholder (chars: number): string {
  return `<redacted ${chars} chars>`
}

export interface RedactSettings {
  /** Entries shorter than this many characters are kept (0: none). */
  keepShorterThan: number
  /** Entries starting with one of these (ASCII) are kept: the request-count marks. */
  keepPrefixes: readonly string[]
}

export interface RedactSummary {
  /** Entries of the string table. */
  strings: number
  /** Entries replaced. */
  redactedStrings: number
  /** Entries that were values but were kept by `keepShorterThan` or a prefix. */
  keptValues: number
}

/** Raised when the input is not a snapshot this rewriter can vouch for (it never guesses). */
export class SnapshotRedactionError extends Error {
  override name = 'SnapshotRedactionError'
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const COLON = 0x3a
const ZERO = 0x30
const LETTER_U = 0x75

const HEADER_LIMIT = 1 << 20
const KEY_LIMIT = 64

/** Growable set of string-table indexes, one bit each. */
class BitSet {
  bits = new Uint32Array(1 << 12)

  add (index: number): void {
    const word = index >>> 5
    if (word >= this.bits.length) this.grow(word)
    this.bits[word] = (this.bits[word] as number) | (1 << (index & 31))
  }

  has (index: number): boolean {
    const word = index >>> 5
    return word < this.bits.length && ((this.bits[word] as number) & (1 << (index & 31))) !== 0
  }

  private grow (word: number): void {
    let length = this.bits.length * 2
    while (length <= word) length *= 2
    const bits = new Uint32Array(length)
    bits.set(this.bits)
    this.bits = bits
  }
}

/** What each numeric section's numbers mean to the rewriter. */
interface NumberSection {
  /** Numbers per record. */
  fields: number
  /** Called with a record's numbers once all are read (reused array). */
  record: ((values: Uint32Array) => void) | null
}

const enum Mode { Top, Key, AfterKey, Header, Numbers, Strings, Skip, Done }

/**
 * Where the rewritten bytes go: called synchronously with a view that is only valid during the
 * call (the rewriter reuses its buffer and the caller its chunks), e.g. `writeSync`.
 */
export type RedactSink = (bytes: Buffer) => void

// The rewritten string table is gathered into one buffer of this size between writes to the sink.
const OUT_BYTES = 256 * 1024

/**
 * A push rewriter: `write(chunk)` sends the rewritten bytes to the sink (the chunk may be reused
 * once it returns), `end()` checks the snapshot was whole and returns the summary. One per snapshot.
 */
export class SnapshotRedactor {
  readonly #settings: RedactSettings
  readonly #prefixes: Buffer[]
  /** Bytes of a candidate entry held back before deciding (a prefix or a short string). */
  readonly #bufferCap: number
  readonly #values = new BitSet()
  readonly #names = new BitSet()
  readonly #sink: RedactSink
  readonly #outBuf = Buffer.allocUnsafe(OUT_BYTES)
  #outPos = 0
  /** Where the bytes of the current chunk not yet sent start. */
  #copyFrom = 0
  #mode = Mode.Top

  #key = ''
  #header: Buffer[] = []
  #headerBytes = 0
  #depth = 0
  #inHeaderString = false
  #headerEscape = false

  #stringType = -1
  #sections = new Map<string, NumberSection>()
  #sawStrings = false
  #section: NumberSection | null = null
  #record = new Uint32Array(8)
  #field = 0
  #number = 0
  #inNumber = false

  #entry = 0
  #inEntry = false
  #candidate = false
  #escape = false
  #hexLeft = 0
  #chars = 0
  #held: Buffer
  #heldBytes = 0
  #dropping = false
  #summary: RedactSummary = { strings: 0, redactedStrings: 0, keptValues: 0 }

  constructor (settings: RedactSettings, sink: RedactSink) {
    this.#settings = settings
    this.#sink = sink
    this.#prefixes = settings.keepPrefixes.map((prefix) => Buffer.from(prefix, 'latin1'))
    const longestPrefix = Math.max(0, ...this.#prefixes.map((prefix) => prefix.length))
    // a character is at most 6 bytes as V8 writes it (`\uXXXX`)
    this.#bufferCap = Math.max(longestPrefix, 6 * settings.keepShorterThan)
    this.#held = Buffer.allocUnsafe(this.#bufferCap + 64)
  }

  write (chunk: Buffer): void {
    this.#copyFrom = 0
    let at = 0
    const length = chunk.length
    while (at < length) {
      switch (this.#mode) {
        case Mode.Top: at = this.#top(chunk, at); break
        case Mode.Key: at = this.#readKey(chunk, at); break
        case Mode.AfterKey: at = this.#afterKey(chunk, at); break
        case Mode.Header: at = this.#readHeader(chunk, at); break
        case Mode.Numbers: at = this.#numbers(chunk, at); break
        case Mode.Skip: at = this.#skip(chunk, at); break
        case Mode.Strings: at = this.#strings(chunk, at); break
        case Mode.Done: at = this.#trailer(chunk, at); break
      }
    }
    this.#emitRange(chunk, this.#copyFrom, length)
    this.#flushOut()
  }

  end (): RedactSummary {
    if (this.#mode !== Mode.Done) throw new SnapshotRedactionError('the snapshot ended before its string table did')
    return { ...this.#summary }
  }

  #emitRange (source: Buffer, start: number, end: number): void {
    const length = end - start
    if (length <= 0) return
    if (length > OUT_BYTES - this.#outPos) {
      this.#flushOut()
      if (length >= OUT_BYTES / 4) {
        this.#sink(source.subarray(start, end))
        return
      }
    }
    source.copy(this.#outBuf, this.#outPos, start, end)
    this.#outPos += length
  }

  #emitText (text: string): void {
    if (text.length > OUT_BYTES - this.#outPos) this.#flushOut()
    this.#outPos += this.#outBuf.write(text, this.#outPos, 'latin1')
  }

  #flushOut (): void {
    if (this.#outPos === 0) return
    this.#sink(this.#outBuf.subarray(0, this.#outPos))
    this.#outPos = 0
  }

  #top (chunk: Buffer, start: number): number {
    for (let at = start; at < chunk.length; at++) {
      const byte = chunk[at] as number
      if (byte === QUOTE) {
        this.#key = ''
        this.#mode = Mode.Key
        return at + 1
      }
      if (byte === CLOSE_BRACE) {
        if (!this.#sawStrings) throw new SnapshotRedactionError('the snapshot has no string table')
        this.#mode = Mode.Done
        return at + 1
      }
    }
    return chunk.length
  }

  #readKey (chunk: Buffer, start: number): number {
    const end = chunk.indexOf(QUOTE, start)
    const stop = end === -1 ? chunk.length : end
    this.#key += chunk.toString('latin1', start, stop)
    if (this.#key.length > KEY_LIMIT) throw new SnapshotRedactionError('the snapshot has an unexpected section')
    if (end === -1) return chunk.length
    this.#mode = Mode.AfterKey
    return end + 1
  }

  #afterKey (chunk: Buffer, start: number): number {
    for (let at = start; at < chunk.length; at++) {
      const byte = chunk[at] as number
      if (byte === COLON || byte <= 0x20) continue
      this.#enterSection(byte)
      return this.#mode === Mode.Header ? at : at + 1
    }
    return chunk.length
  }

  #enterSection (byte: number): void {
    const key = this.#key
    if (key === 'snapshot') {
      if (byte !== OPEN_BRACE) throw new SnapshotRedactionError('the snapshot header is not an object')
      this.#mode = Mode.Header
      this.#depth = 0
      return
    }
    if (byte !== OPEN_BRACKET) throw new SnapshotRedactionError(`the snapshot's "${key}" is not an array`)
    if (key === 'strings') {
      if (this.#stringType === -1) throw new SnapshotRedactionError('the string table comes before the header')
      this.#sawStrings = true
      this.#mode = Mode.Strings
      return
    }
    this.#depth = 1
    const section = this.#sections.get(key)
    if (section === undefined) {
      // A section this rewriter does not know may hold strings it cannot judge: only numbers pass.
      this.#mode = Mode.Skip
      return
    }
    this.#section = section
    this.#field = 0
    this.#inNumber = false
    this.#mode = Mode.Numbers
  }

  #readHeader (chunk: Buffer, start: number): number {
    let at = start
    for (; at < chunk.length; at++) {
      const byte = chunk[at] as number
      if (this.#inHeaderString) {
        if (this.#headerEscape) this.#headerEscape = false
        else if (byte === BACKSLASH) this.#headerEscape = true
        else if (byte === QUOTE) this.#inHeaderString = false
      } else if (byte === QUOTE) {
        this.#inHeaderString = true
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.#depth++
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (--this.#depth === 0) {
          this.#holdHeader(chunk.subarray(start, at + 1))
          this.#useHeader(Buffer.concat(this.#header).toString('utf8'))
          this.#header = []
          this.#mode = Mode.Top
          return at + 1
        }
      }
    }
    this.#holdHeader(chunk.subarray(start, at))
    return at
  }

  #holdHeader (bytes: Buffer): void {
    this.#headerBytes += bytes.length
    if (this.#headerBytes > HEADER_LIMIT) throw new SnapshotRedactionError('the snapshot header is too big to be one')
    this.#header.push(Buffer.from(bytes)) // a copy: the caller reuses its chunks
  }

  #useHeader (text: string): void {
    let header: unknown
    try {
      header = JSON.parse(text)
    } catch {
      throw new SnapshotRedactionError('the snapshot header is not valid JSON')
    }
    const meta = (header as { meta?: Record<string, unknown> } | null)?.meta
    const nodeFields = stringList(meta?.node_fields)
    const nodeTypes = stringList((meta?.node_types as unknown[] | undefined)?.[0])
    const edgeFields = stringList(meta?.edge_fields)
    const edgeTypes = stringList((meta?.edge_types as unknown[] | undefined)?.[0])
    const traceFields = stringList(meta?.trace_function_info_fields) ?? []
    if (nodeFields === null || nodeTypes === null || edgeFields === null || edgeTypes === null) {
      throw new SnapshotRedactionError('the snapshot header has no node or edge layout')
    }
    const nodeType = fieldOf(nodeFields, 'type')
    const nodeName = fieldOf(nodeFields, 'name')
    const edgeType = fieldOf(edgeFields, 'type')
    const edgeName = fieldOf(edgeFields, 'name_or_index')
    this.#stringType = nodeTypes.indexOf('string')
    if (this.#stringType === -1) throw new SnapshotRedactionError('the snapshot header has no "string" node type')
    // element and hidden edges hold an index where the others hold a string's index
    const numbered = new Set([edgeTypes.indexOf('element'), edgeTypes.indexOf('hidden')])
    const stringType = this.#stringType
    const values = this.#values
    const names = this.#names
    this.#record = new Uint32Array(Math.max(nodeFields.length, edgeFields.length, traceFields.length, 1))
    this.#sections.set('nodes', {
      fields: nodeFields.length,
      record: (v) => {
        if (v[nodeType] === stringType) values.add(v[nodeName] as number)
        else names.add(v[nodeName] as number)
      }
    })
    this.#sections.set('edges', {
      fields: edgeFields.length,
      record: (v) => { if (!numbered.has(v[edgeType] as number)) names.add(v[edgeName] as number) }
    })
    const traceNames = ['name', 'script_name'].map((field) => traceFields.indexOf(field)).filter((index) => index !== -1)
    this.#sections.set('trace_function_infos', {
      fields: Math.max(traceFields.length, 1),
      record: (v) => { for (const field of traceNames) names.add(v[field] as number) }
    })
    // numbers only: node and object ids, counts, sizes, times, script ids, lines
    for (const key of ['trace_tree', 'samples', 'locations']) this.#sections.set(key, { fields: 1, record: null })
  }

  #numbers (chunk: Buffer, start: number): number {
    const { fields, record } = this.#section as NumberSection
    const values = this.#record
    let number = this.#number
    let inNumber = this.#inNumber
    let field = this.#field
    for (let at = start; at < chunk.length; at++) {
      const byte = chunk[at] as number
      const digit = byte - ZERO
      if (digit >= 0 && digit <= 9) {
        number = number * 10 + digit
        inNumber = true
      } else {
        if (inNumber) {
          values[field] = number
          if (++field === fields) {
            if (record !== null) record(values)
            field = 0
          }
          number = 0
          inNumber = false
        }
        if (byte <= 0x2c) continue // a comma, a newline, a space
        if (byte === OPEN_BRACKET) {
          this.#depth++
        } else if (byte === CLOSE_BRACKET) {
          if (--this.#depth === 0) {
            if (field !== 0) throw new SnapshotRedactionError('a section of the snapshot ends inside a record')
            this.#field = 0
            this.#number = 0
            this.#inNumber = false
            this.#mode = Mode.Top
            return at + 1
          }
        } else {
          throw new SnapshotRedactionError('a numeric section of the snapshot holds something else than numbers')
        }
      }
    }
    this.#number = number
    this.#inNumber = inNumber
    this.#field = field
    return chunk.length
  }

  #skip (chunk: Buffer, start: number): number {
    for (let at = start; at < chunk.length; at++) {
      const byte = chunk[at] as number
      if (byte === QUOTE) throw new SnapshotRedactionError(`the snapshot's "${this.#key}" section holds strings this version cannot redact`)
      if (byte === OPEN_BRACKET || byte === OPEN_BRACE) this.#depth++
      else if ((byte === CLOSE_BRACKET || byte === CLOSE_BRACE) && --this.#depth === 0) {
        this.#mode = Mode.Top
        return at + 1
      }
    }
    return chunk.length
  }

  #strings (chunk: Buffer, start: number): number {
    const length = chunk.length
    let at = start
    while (at < length) {
      if (!this.#inEntry) {
        const byte = chunk[at] as number
        if (byte === QUOTE) {
          this.#beginEntry()
          if (this.#candidate) {
            this.#emitRange(chunk, this.#copyFrom, at)
            this.#copyFrom = at
          }
        } else if (byte === CLOSE_BRACKET) {
          this.#mode = Mode.Top
          return at + 1
        }
        at++
        continue
      }
      if (!this.#candidate) {
        at = this.#passEntry(chunk, at)
        continue
      }
      // #copyFrom is at the entry's opening quote, or at 0 when it began in an earlier chunk
      const ended = this.#readCandidate(chunk, at)
      if (ended === -1) break
      this.#finishCandidate(chunk, ended + 1)
      at = ended + 1
      this.#copyFrom = at
    }
    if (this.#inEntry && this.#candidate) {
      // it goes on in the next chunk
      if (!this.#dropping) this.#holdPart(chunk, this.#copyFrom, length)
      this.#copyFrom = length
    }
    return length
  }

  #beginEntry (): void {
    const index = this.#entry++
    this.#summary.strings++
    this.#inEntry = true
    this.#escape = false
    this.#candidate = this.#values.has(index) && !this.#names.has(index)
    this.#chars = 0
    this.#hexLeft = 0
    this.#dropping = false
    this.#heldBytes = 0
  }

  /** Copies an entry kept as it is: only its end matters. */
  #passEntry (chunk: Buffer, start: number): number {
    let escape = this.#escape
    for (let at = start; at < chunk.length; at++) {
      const byte = chunk[at] as number
      if (escape) escape = false
      else if (byte === BACKSLASH) escape = true
      else if (byte === QUOTE) {
        this.#inEntry = false
        this.#escape = false
        return at + 1
      }
    }
    this.#escape = escape
    return chunk.length
  }

  /** Counts a candidate's characters; the index of its closing quote, or -1 past the chunk. */
  #readCandidate (chunk: Buffer, start: number): number {
    let escape = this.#escape
    let hexLeft = this.#hexLeft
    let chars = this.#chars
    let end = -1
    for (let at = start; at < chunk.length; at++) {
      const byte = chunk[at] as number
      if (hexLeft > 0) {
        hexLeft--
      } else if (escape) {
        escape = false
        chars++
        if (byte === LETTER_U) hexLeft = 4
      } else if (byte === BACKSLASH) {
        escape = true
      } else if (byte === QUOTE) {
        end = at
        break
      } else if (byte < 0x80) {
        chars++
      } else if (byte >= 0xf0) {
        chars += 2 // a code point beyond the BMP is two UTF-16 units
      } else if (byte >= 0xc0) {
        chars++
      }
    }
    this.#escape = escape
    this.#hexLeft = hexLeft
    this.#chars = chars
    return end
  }

  /** Appends part of a candidate to what is held of it. */
  #appendHeld (chunk: Buffer, start: number, end: number): void {
    const needed = this.#heldBytes + end - start
    if (needed > this.#held.length) {
      const held = Buffer.allocUnsafe(Math.max(needed, 2 * this.#held.length))
      this.#held.copy(held, 0, 0, this.#heldBytes)
      this.#held = held
    }
    chunk.copy(this.#held, this.#heldBytes, start, end)
    this.#heldBytes = needed
  }

  /**
   * Holds the part of a candidate that goes on in the next chunk (a copy: the caller reuses its
   * chunks), until it is known to be kept or dropped: never more than is needed to decide.
   */
  #holdPart (chunk: Buffer, start: number, end: number): void {
    this.#appendHeld(chunk, start, end)
    // the opening quote is held too
    if (this.#heldBytes <= this.#bufferCap + 2) return
    if (this.#startsWithPrefix(this.#held, 0, this.#heldBytes)) {
      // kept whatever its length: copied from here on like any kept entry
      this.#summary.keptValues++
      this.#emitRange(this.#held, 0, this.#heldBytes)
      this.#candidate = false
    } else {
      this.#dropping = true
    }
    this.#heldBytes = 0
  }

  /** Whether the entry whose opening quote is at `quote` starts with a kept prefix. */
  #startsWithPrefix (bytes: Buffer, quote: number, end: number): boolean {
    for (const prefix of this.#prefixes) {
      if (end > quote + prefix.length && bytes.compare(prefix, 0, prefix.length, quote + 1, quote + 1 + prefix.length) === 0) return true
    }
    return false
  }

  /** Decides a candidate whose last bytes are `chunk` from #copyFrom to `end` (its closing quote included). */
  #finishCandidate (chunk: Buffer, end: number): void {
    this.#inEntry = false
    if (!this.#dropping) {
      let bytes = chunk
      let start = this.#copyFrom
      let stop = end
      if (this.#heldBytes > 0) {
        this.#appendHeld(chunk, start, end)
        bytes = this.#held
        start = 0
        stop = this.#heldBytes
      }
      const chars = this.#chars
      if (chars === 0 || chars < this.#settings.keepShorterThan || this.#startsWithPrefix(bytes, start, stop)) {
        this.#summary.keptValues++
        this.#emitRange(bytes, start, stop)
        this.#heldBytes = 0
        return
      }
    }
    this.#heldBytes = 0
    this.#summary.redactedStrings++
    this.#emitText(`"${redactedPlaceholder(this.#chars)}"`)
  }

  #trailer (chunk: Buffer, start: number): number {
    for (let at = start; at < chunk.length; at++) {
      if ((chunk[at] as number) > 0x20) throw new SnapshotRedactionError('the snapshot goes on after its end')
    }
    return chunk.length
  }
}

function stringList (value: unknown): string[] | null {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : null
}

function fieldOf (fields: string[], name: string): number {
  const index = fields.indexOf(name)
  if (index === -1) throw new SnapshotRedactionError(`the snapshot header has no "${name}" field`)
  return index
}
