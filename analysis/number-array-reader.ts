import { HeapSnapshotFormatError } from './errors.js'

export type NumberColumn = Uint8Array | Uint32Array | Float64Array

/** Where one field of each row goes; fields without a column are read and dropped. */
export interface FieldColumn {
  readonly column: NumberColumn
  /** Larger values are a format error (a typed array would silently wrap them). */
  readonly max: number
}

const ZERO = 0x30
const COMMA = 0x2c
const CLOSE_BRACKET = 0x5d
const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d

/**
 * Tokenizes a flat JSON array of non-negative integers (the `nodes` or `edges` of a snapshot:
 * `rows` rows of `fields.length` numbers) straight into typed-array columns, across chunks.
 * The opening `[` is consumed by the caller.
 */
export class NumberArrayReader {
  readonly #name: string
  readonly #rows: number
  readonly #fieldCount: number
  readonly #columns: (NumberColumn | undefined)[]
  readonly #max: number[]
  #row = 0
  #field = 0
  #value = 0
  #inNumber = false

  constructor (name: string, rows: number, fields: readonly (FieldColumn | undefined)[]) {
    this.#name = name
    this.#rows = rows
    this.#fieldCount = fields.length
    // Array.from, not map: `fields` may have holes, and the columns array should have none.
    this.#columns = Array.from(fields, (f) => f?.column)
    this.#max = Array.from(fields, (f) => f === undefined ? Infinity : f.max)
  }

  get expectedRows (): number {
    return this.#rows
  }

  /** Complete rows read so far. */
  get rowsRead (): number {
    return this.#row
  }

  /** Reads until the closing `]`; returns the index just after it, or -1 when the chunk ends first. */
  read (buf: Buffer, start: number): number {
    const columns = this.#columns
    const max = this.#max
    const fieldCount = this.#fieldCount
    const rows = this.#rows
    let row = this.#row
    let field = this.#field
    let value = this.#value
    let inNumber = this.#inNumber
    for (let i = start; i < buf.length; i++) {
      const c = buf[i] as number
      const digit = c - ZERO
      if (digit >= 0 && digit <= 9) {
        value = value * 10 + digit
        inNumber = true
        continue
      }
      if (inNumber) {
        if (row === rows) throw this.#tooMany()
        const column = columns[field]
        if (column !== undefined) {
          if (value > (max[field] as number)) throw this.#outOfRange(value, field)
          column[row] = value
        }
        if (++field === fieldCount) {
          field = 0
          row++
        }
        value = 0
        inNumber = false
      }
      if (c === COMMA || c === LF || c === SPACE || c === CR || c === TAB) continue
      if (c === CLOSE_BRACKET) {
        this.#row = row
        this.#field = field
        this.#checkComplete()
        return i + 1
      }
      throw new HeapSnapshotFormatError(`not a V8 heap snapshot: unexpected ${JSON.stringify(String.fromCharCode(c))} in the "${this.#name}" array`)
    }
    this.#row = row
    this.#field = field
    this.#value = value
    this.#inNumber = inNumber
    return -1
  }

  #checkComplete (): void {
    if (this.#row !== this.#rows || this.#field !== 0) {
      throw new HeapSnapshotFormatError(`not a V8 heap snapshot: expected ${this.#rows} ${this.#name}, got ${this.#row}`)
    }
  }

  #tooMany (): Error {
    return new HeapSnapshotFormatError(`not a V8 heap snapshot: more ${this.#name} than the ${this.#rows} announced in the header`)
  }

  #outOfRange (value: number, field: number): Error {
    return new HeapSnapshotFormatError(`not a V8 heap snapshot: value ${value} out of range for field ${field} of the "${this.#name}" array`)
  }
}
