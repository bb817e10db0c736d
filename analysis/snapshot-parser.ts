import { HeapSnapshotFormatError } from './errors.js'
import { JsonStringReader } from './json-string-reader.js'
import { JsonValueScanner } from './json-value-scanner.js'
import { NumberArrayReader } from './number-array-reader.js'
import type { FieldColumn } from './number-array-reader.js'
import type { HeapSnapshot } from './snapshot.js'
import { checkEdges, checkNodes } from './snapshot-checks.js'
import { parseSnapshotHeader } from './snapshot-header.js'
import type { SnapshotLayout } from './snapshot-header.js'

export interface HeapSnapshotParserOptions {
  /**
   * Read the edges. Without them the snapshot still has every node (enough to count and size
   * objects by class) in less memory and time.
   * @defaultValue true
   */
  readonly edges?: boolean
  /**
   * Which strings to keep; the others are read as `''` (their indexes stay valid). Millions of
   * strings (user data, ids) are most of a snapshot's memory after the typed arrays.
   * @defaultValue every string
   */
  readonly keepString?: (text: string) => boolean
  /**
   * Node types (e.g. `'native'`) whose nodes' names are kept whatever `keepString` says. When
   * the strings come before the nodes (V8 writes them last) every string is kept.
   */
  readonly keepNamesOfTypes?: readonly string[]
}

// V8 writes a header of about 1 KB; anything this big is not one.
const HEADER_LIMIT = 1 << 20
const MAX_UINT32 = 0xffffffff

const QUOTE = 0x22
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/** Consumes bytes from `start`; returns where to go on (the chunk's length when it needs more). */
type Step = (buf: Buffer, start: number) => number

interface NodeColumns {
  type: Uint8Array
  name: Uint32Array
  id: Uint32Array
  selfSize: Float64Array
  edgeCount: Uint32Array
}

interface EdgeColumns {
  type: Uint8Array
  nameOrIndex: Uint32Array
  toNode: Uint32Array
}

/**
 * A push parser for `.heapsnapshot` JSON: `write()` chunks as they come (any size, split
 * anywhere; a chunk must not be modified afterwards), then `end()`. Only the small header goes
 * through JSON.parse; `nodes` and `edges` go straight into typed arrays, `strings` into a string
 * array, and the other sections are skipped, so the whole text is never held.
 */
export class HeapSnapshotParser {
  readonly #withEdges: boolean
  #step: Step
  #sawData = false
  readonly #keys = new Set<string>()
  #key = ''
  readonly #keyReader = new JsonStringReader()
  #scanner: JsonValueScanner | null = null
  #numbers: NumberArrayReader | null = null
  #layout: SnapshotLayout | null = null
  #nodes: NodeColumns | null = null
  #edges: EdgeColumns | null = null
  readonly #stringReader = new JsonStringReader()
  #inString = false
  readonly #strings: string[] = []

  readonly #keepString: ((text: string) => boolean) | undefined
  readonly #keepNamesOfTypes: readonly string[]
  /** The indexes of the names `keepNamesOfTypes` asks for, null to keep every string. */
  #keptNames: Set<number> | null = null

  constructor (options: HeapSnapshotParserOptions = {}) {
    this.#withEdges = options.edges ?? true
    this.#keepString = options.keepString
    this.#keepNamesOfTypes = options.keepNamesOfTypes ?? []
    this.#step = this.#expectObject
  }

  write (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) i = this.#step(chunk, i)
  }

  end (): HeapSnapshot {
    if (!this.#sawData) throw notSnapshot('the file is empty')
    if (this.#step !== this.#afterEnd) throw new HeapSnapshotFormatError(`truncated: ${this.#whereItEnds()}`)
    const layout = this.#layout
    if (layout === null) throw notSnapshot('it has no "snapshot" header')
    for (const key of ['nodes', 'edges', 'strings']) {
      if (!this.#keys.has(key)) throw notSnapshot(`it has no "${key}" array`)
    }
    return this.#build(layout, this.#nodes as NodeColumns, this.#edges ?? emptyEdges())
  }

  #build (layout: SnapshotLayout, nodes: NodeColumns, edges: EdgeColumns): HeapSnapshot {
    const strings = this.#strings
    const rootOrdinal = layout.rootIndex / layout.nodeFieldCount
    checkNodes(nodes.name, nodes.edgeCount, strings.length, layout.edgeCount, rootOrdinal)
    checkEdges(edges.type, edges.nameOrIndex, edges.toNode, layout.edgeTypeNames, layout.nodeFieldCount, layout.nodeCount, strings.length)
    return {
      nodeCount: layout.nodeCount,
      edgeCount: layout.edgeCount,
      nodeTypeNames: layout.nodeTypeNames,
      edgeTypeNames: layout.edgeTypeNames,
      nodeType: nodes.type,
      nodeName: nodes.name,
      nodeId: nodes.id,
      nodeSelfSize: nodes.selfSize,
      nodeEdgeCount: nodes.edgeCount,
      edgeType: edges.type,
      edgeNameOrIndex: edges.nameOrIndex,
      edgeToNode: edges.toNode,
      strings,
      rootOrdinal
    }
  }

  #namesToKeep (): Set<number> | null {
    const kept = new Set<number>()
    if (this.#keepNamesOfTypes.length === 0) return kept
    const layout = this.#layout as SnapshotLayout
    const nodes = this.#nodes
    if (nodes === null) return null
    const types = new Set(this.#keepNamesOfTypes.map((name) => layout.nodeTypeNames.indexOf(name)))
    for (let i = 0; i < nodes.type.length; i++) if (types.has(nodes.type[i] as number)) kept.add(nodes.name[i] as number)
    return kept
  }

  #keeps (text: string, index: number): boolean {
    return this.#keepString === undefined || this.#keptNames === null || this.#keptNames.has(index) || this.#keepString(text)
  }

  #whereItEnds (): string {
    if (this.#step === this.#readNumbers) {
      const numbers = this.#numbers as NumberArrayReader
      return `expected ${numbers.expectedRows} ${this.#key}, got ${numbers.rowsRead}`
    }
    if (this.#step === this.#readStrings) return `the file ends in the "strings" array, after ${this.#strings.length} strings`
    if (this.#step === this.#readHeader) return 'the file ends in the "snapshot" header'
    return 'the file ends before the end of the JSON object'
  }

  readonly #expectObject: Step = (buf, start) => {
    const i = skipWhitespace(buf, start)
    if (i === buf.length) return i
    this.#sawData = true
    if (buf[i] !== OPEN_BRACE) throw notSnapshot(`it starts with ${describeByte(buf[i])}, not "{"`)
    this.#step = this.#expectKey
    return i + 1
  }

  readonly #expectKey: Step = (buf, start) => {
    const i = skipWhitespace(buf, start)
    if (i === buf.length) return i
    if (buf[i] === QUOTE) {
      this.#step = this.#readKey
    } else if (buf[i] === CLOSE_BRACE) {
      this.#step = this.#afterEnd
    } else {
      throw notSnapshot(`unexpected ${describeByte(buf[i])} where a key was expected`)
    }
    return i + 1
  }

  readonly #readKey: Step = (buf, start) => {
    const end = this.#keyReader.read(buf, start)
    if (end === -1) return buf.length
    const key = this.#keyReader.value
    if (this.#layout === null && key !== 'snapshot') {
      throw notSnapshot(`its first key is ${JSON.stringify(key.slice(0, 40))}, not "snapshot"`)
    }
    if (this.#keys.has(key)) throw notSnapshot(`the key "${key}" appears twice`)
    this.#keys.add(key)
    this.#key = key
    this.#step = this.#expectColon
    return end
  }

  readonly #expectColon: Step = (buf, start) => {
    const i = skipWhitespace(buf, start)
    if (i === buf.length) return i
    if (buf[i] !== COLON) throw notSnapshot(`unexpected ${describeByte(buf[i])} after the key "${this.#key}"`)
    this.#step = this.#expectValue
    return i + 1
  }

  readonly #expectValue: Step = (buf, start) => {
    const i = skipWhitespace(buf, start)
    if (i === buf.length) return i
    const key = this.#key
    if (key === 'snapshot') {
      expectByte(buf[i], OPEN_BRACE, key)
      this.#scanner = new JsonValueScanner(key, HEADER_LIMIT)
      this.#step = this.#readHeader
      return i
    }
    if (key === 'nodes' || (key === 'edges' && this.#withEdges)) {
      expectByte(buf[i], OPEN_BRACKET, key)
      // The first key is always "snapshot", so the layout is known here.
      const layout = this.#layout as SnapshotLayout
      this.#numbers = key === 'nodes' ? this.#startNodes(layout) : this.#startEdges(layout)
      this.#step = this.#readNumbers
      return i + 1
    }
    if (key === 'strings') {
      expectByte(buf[i], OPEN_BRACKET, key)
      this.#keptNames = this.#namesToKeep()
      this.#step = this.#readStrings
      return i + 1
    }
    this.#scanner = new JsonValueScanner(key)
    this.#step = this.#skipValue
    return i
  }

  #startNodes (layout: SnapshotLayout): NumberArrayReader {
    const n = layout.nodeCount
    const nodes = this.#nodes = {
      type: new Uint8Array(n),
      name: new Uint32Array(n),
      id: new Uint32Array(n),
      selfSize: new Float64Array(n),
      edgeCount: new Uint32Array(n)
    }
    const fields = new Array<FieldColumn | undefined>(layout.nodeFieldCount)
    fields[layout.node.type] = { column: nodes.type, max: Math.min(layout.nodeTypeNames.length - 1, 0xff) }
    fields[layout.node.name] = { column: nodes.name, max: MAX_UINT32 }
    fields[layout.node.id] = { column: nodes.id, max: MAX_UINT32 }
    fields[layout.node.selfSize] = { column: nodes.selfSize, max: Number.MAX_SAFE_INTEGER }
    fields[layout.node.edgeCount] = { column: nodes.edgeCount, max: MAX_UINT32 }
    return new NumberArrayReader('nodes', n, fields)
  }

  #startEdges (layout: SnapshotLayout): NumberArrayReader {
    const n = layout.edgeCount
    const edges = this.#edges = {
      type: new Uint8Array(n),
      nameOrIndex: new Uint32Array(n),
      toNode: new Uint32Array(n)
    }
    const fields = new Array<FieldColumn | undefined>(layout.edgeFieldCount)
    fields[layout.edge.type] = { column: edges.type, max: Math.min(layout.edgeTypeNames.length - 1, 0xff) }
    fields[layout.edge.nameOrIndex] = { column: edges.nameOrIndex, max: MAX_UINT32 }
    fields[layout.edge.toNode] = { column: edges.toNode, max: MAX_UINT32 }
    return new NumberArrayReader('edges', n, fields)
  }

  readonly #readHeader: Step = (buf, start) => {
    const scanner = this.#scanner as JsonValueScanner
    const end = scanner.read(buf, start)
    if (end === -1) return buf.length
    this.#layout = parseSnapshotHeader(scanner.text())
    this.#scanner = null
    this.#step = this.#afterValue
    return end
  }

  readonly #readNumbers: Step = (buf, start) => {
    const end = (this.#numbers as NumberArrayReader).read(buf, start)
    if (end === -1) return buf.length
    this.#numbers = null
    this.#step = this.#afterValue
    return end
  }

  readonly #readStrings: Step = (buf, start) => {
    let i = start
    if (this.#inString) {
      const end = this.#stringReader.read(buf, i)
      if (end === -1) return buf.length
      const text = this.#stringReader.value
      this.#strings.push(this.#keeps(text, this.#strings.length) ? text : '')
      this.#inString = false
      i = end
    }
    i = skipSeparators(buf, i)
    if (i === buf.length) return i
    if (buf[i] === QUOTE) {
      this.#inString = true
    } else if (buf[i] === CLOSE_BRACKET) {
      this.#step = this.#afterValue
    } else {
      throw notSnapshot(`unexpected ${describeByte(buf[i])} in the "strings" array`)
    }
    return i + 1
  }

  readonly #skipValue: Step = (buf, start) => {
    const end = (this.#scanner as JsonValueScanner).read(buf, start)
    if (end === -1) return buf.length
    this.#scanner = null
    this.#step = this.#afterValue
    return end
  }

  readonly #afterValue: Step = (buf, start) => {
    const i = skipWhitespace(buf, start)
    if (i === buf.length) return i
    if (buf[i] === COMMA) {
      this.#step = this.#expectKey
    } else if (buf[i] === CLOSE_BRACE) {
      this.#step = this.#afterEnd
    } else {
      throw notSnapshot(`unexpected ${describeByte(buf[i])} after the value of "${this.#key}"`)
    }
    return i + 1
  }

  readonly #afterEnd: Step = (buf, start) => {
    const i = skipWhitespace(buf, start)
    if (i !== buf.length) throw notSnapshot('unexpected data after the end of the JSON object')
    return i
  }
}

function emptyEdges (): EdgeColumns {
  return { type: new Uint8Array(0), nameOrIndex: new Uint32Array(0), toNode: new Uint32Array(0) }
}

function isWhitespace (c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipWhitespace (buf: Buffer, start: number): number {
  let i = start
  while (i < buf.length && isWhitespace(buf[i])) i++
  return i
}

function skipSeparators (buf: Buffer, start: number): number {
  let i = start
  while (i < buf.length && (buf[i] === COMMA || isWhitespace(buf[i]))) i++
  return i
}

function expectByte (c: number | undefined, expected: number, key: string): void {
  if (c !== expected) throw notSnapshot(`"${key}" starts with ${describeByte(c)}, not "${String.fromCharCode(expected)}"`)
}

function describeByte (c: number | undefined): string {
  const byte = c as number
  return byte >= 0x20 && byte < 0x7f ? JSON.stringify(String.fromCharCode(byte)) : `byte 0x${byte.toString(16).padStart(2, '0')}`
}

function notSnapshot (why: string): Error {
  return new HeapSnapshotFormatError(`not a V8 heap snapshot: ${why}`)
}
