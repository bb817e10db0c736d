// Snapshot fixtures for the diff tests: real ones from a child process, and small hand-built
// ones for cases a real heap cannot be made to show. Nothing here is a test.
import { execFile } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { createGzip } from 'node:zlib'

const run = promisify(execFile)

// Runs in a bare `node -e` (no loaders: a small, quiet heap). The class is declared under the
// given name (a name given at run time, by a computed key say, is not the one V8's snapshot
// shows: it uses the name the source declares), so each test can use a name found nowhere else.
const LEAK_SCRIPT = `
const v8 = require('node:v8')
const [beforePath, afterPath, className, count] = process.argv.slice(1)
if (!/^[A-Z][A-Za-z0-9]*$/.test(className)) throw new Error('not a class name: ' + className)
const Leaky = eval('(class ' + className + ' { constructor (i) { this.index = i; this.half = i / 2; this.label = "item " + i } })')
v8.writeHeapSnapshot(beforePath)
globalThis.retained = []
for (let i = 0; i < Number(count); i++) globalThis.retained.push(new Leaky(i))
v8.writeHeapSnapshot(afterPath)
`

export interface SnapshotPair {
  readonly before: string
  readonly after: string
}

/** Two snapshots of one process, before and after it retains `count` new instances of `className` from a global. */
export async function writeLeakSnapshots (dir: string, className: string, count: number): Promise<SnapshotPair> {
  const before = join(dir, 'before.heapsnapshot')
  const after = join(dir, 'after.heapsnapshot')
  await run(process.execPath, ['-e', LEAK_SCRIPT, before, after, className, String(count)], {
    env: { ...process.env, NODE_OPTIONS: '' }
  })
  return { before, after }
}

/** A snapshot of a process that keeps `text` (a fresh heap string) in a global. */
export async function writeSnapshotKeeping (path: string, text: string): Promise<string> {
  const script = "globalThis.kept = [process.argv[1], '!'].join(''); require('node:v8').writeHeapSnapshot(process.argv[2])"
  await run(process.execPath, ['-e', script, text, path], { env: { ...process.env, NODE_OPTIONS: '' } })
  return path
}

export async function gzipFile (source: string, target: string): Promise<string> {
  await pipeline(createReadStream(source), createGzip(), createWriteStream(target))
  return target
}

export interface EdgeSpec {
  readonly type: string
  /** A string for most edge types, the element index for `element` and `hidden`. */
  readonly name: string | number
  /** Position of the target in the node list. */
  readonly to: number
}

export interface NodeSpec {
  readonly type: string
  readonly name: string
  readonly id: number
  readonly size?: number
  readonly edges?: readonly EdgeSpec[]
}

export const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native',
  'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape']
export const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']

export interface SnapshotTextOptions {
  /** Node fields in this order (V8's: type, name, id, self_size, edge_count, trace_node_id, detachedness). */
  readonly nodeFields?: readonly string[]
  /** Extra top-level sections, written between `edges` and `strings` as V8 does. */
  readonly extraSections?: Readonly<Record<string, unknown>>
  /** Strings listed before the names the nodes and edges use. */
  readonly extraStrings?: readonly string[]
  /** Edge fields in this order (V8's: type, name_or_index, to_node). */
  readonly edgeFields?: readonly string[]
  /** Merged into the `snapshot` header, e.g. `{ root_index: 7 }`. */
  readonly header?: Readonly<Record<string, unknown>>
}

/** A heap snapshot in V8's JSON layout for the given graph (the first node is the root). */
export function snapshotText (nodes: readonly NodeSpec[], options: SnapshotTextOptions = {}): string {
  const nodeFields = options.nodeFields ?? ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness']
  const edgeFields = options.edgeFields ?? ['type', 'name_or_index', 'to_node']
  const strings = [...(options.extraStrings ?? [])]
  const stringIndex = (s: string): number => {
    const found = strings.indexOf(s)
    return found === -1 ? strings.push(s) - 1 : found
  }
  const nodeRows: number[] = []
  const edgeRows: number[] = []
  for (const node of nodes) {
    const values: Record<string, number> = {
      type: NODE_TYPES.indexOf(node.type),
      name: stringIndex(node.name),
      id: node.id,
      self_size: node.size ?? 0,
      edge_count: node.edges?.length ?? 0,
      trace_node_id: 0,
      detachedness: 0
    }
    nodeRows.push(...nodeFields.map((field) => values[field] as number))
    for (const edge of node.edges ?? []) {
      const name = typeof edge.name === 'number' ? edge.name : stringIndex(edge.name)
      const values: Record<string, number> = { type: EDGE_TYPES.indexOf(edge.type), name_or_index: name, to_node: edge.to * nodeFields.length }
      edgeRows.push(...edgeFields.map((field) => values[field] as number))
    }
  }
  const header = {
    meta: {
      node_fields: nodeFields,
      node_types: nodeFields.map((field) => field === 'type' ? NODE_TYPES : field === 'name' ? 'string' : 'number'),
      edge_fields: edgeFields,
      edge_types: edgeFields.map((field) => field === 'type' ? EDGE_TYPES : field === 'name_or_index' ? 'string_or_number' : 'node')
    },
    node_count: nodes.length,
    edge_count: edgeRows.length / edgeFields.length,
    trace_function_count: 0,
    ...options.header
  }
  const extra = Object.entries(options.extraSections ?? {}).map(([key, value]) => `,\n${JSON.stringify(key)}:${JSON.stringify(value)}`).join('')
  return `{"snapshot":${JSON.stringify(header)},\n"nodes":[${nodeRows.join(',')}],\n"edges":[${edgeRows.join(',')}]${extra},\n"strings":[${strings.map((s) => JSON.stringify(s)).join(',\n')}]}\n`
}

/** A root with one global object holding the given nodes (positions shift by 2). */
export function rootedGraph (held: readonly NodeSpec[]): NodeSpec[] {
  return [
    { type: 'synthetic', name: '', id: 1, edges: [{ type: 'shortcut', name: 'global', to: 1 }] },
    { type: 'object', name: 'global', id: 3, size: 40, edges: held.map((node, i) => ({ type: 'property', name: `p${i}`, to: i + 2 })) },
    ...held
  ]
}
