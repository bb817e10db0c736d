import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import type { HeapSnapshot } from '../../analysis/snapshot.js'
import { HeapSnapshotParser } from '../../analysis/snapshot-parser.js'
import type { HeapSnapshotParserOptions } from '../../analysis/snapshot-parser.js'
import { rootedGraph, snapshotText, writeLeakSnapshots, writeSnapshotKeeping } from './fixtures.js'
import type { NodeSpec } from './fixtures.js'

interface RawSnapshot {
  snapshot: { node_count: number, edge_count: number, meta: { node_fields: string[] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}

function parseInChunks (text: Buffer, chunkSize: number, options?: HeapSnapshotParserOptions): HeapSnapshot {
  const parser = new HeapSnapshotParser(options)
  for (let i = 0; i < text.length; i += chunkSize) parser.write(text.subarray(i, i + chunkSize))
  return parser.end()
}

function parseText (text: string, options?: HeapSnapshotParserOptions): HeapSnapshot {
  return parseInChunks(Buffer.from(text), 1 << 16, options)
}

function sameBytes (actual: ArrayBufferView, expected: ArrayBufferView): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength)
    .equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))
}

/** Every column of `snapshot` against the same file read with JSON.parse. */
function checkAgainstJson (t: Test, snapshot: HeapSnapshot, raw: RawSnapshot): void {
  const fields = raw.snapshot.meta.node_fields
  const nodeColumn = (name: string): number[] => raw.nodes.filter((_, i) => i % fields.length === fields.indexOf(name))
  const edgeColumn = (offset: number): number[] => raw.edges.filter((_, i) => i % 3 === offset)
  t.equal(snapshot.nodeCount, raw.snapshot.node_count, 'node count is snapshot.node_count')
  t.equal(snapshot.edgeCount, raw.snapshot.edge_count, 'edge count is snapshot.edge_count')
  t.equal(snapshot.nodeId.length, raw.nodes.length / fields.length, 'as many nodes as in the array')
  t.equal(snapshot.edgeToNode.length, raw.edges.length / 3, 'as many edges as in the array')
  t.ok(sameBytes(snapshot.nodeType, new Uint8Array(nodeColumn('type'))), 'node types')
  t.ok(sameBytes(snapshot.nodeName, new Uint32Array(nodeColumn('name'))), 'node names')
  t.ok(sameBytes(snapshot.nodeId, new Uint32Array(nodeColumn('id'))), 'node ids')
  t.ok(sameBytes(snapshot.nodeSelfSize, new Float64Array(nodeColumn('self_size'))), 'self sizes')
  t.ok(sameBytes(snapshot.nodeEdgeCount, new Uint32Array(nodeColumn('edge_count'))), 'edge counts')
  t.ok(sameBytes(snapshot.edgeType, new Uint8Array(edgeColumn(0))), 'edge types')
  t.ok(sameBytes(snapshot.edgeNameOrIndex, new Uint32Array(edgeColumn(1))), 'edge names')
  t.ok(sameBytes(snapshot.edgeToNode, new Uint32Array(edgeColumn(2).map((to) => to / fields.length))), 'edge targets, as ordinals')
  t.same(snapshot.strings, raw.strings, 'strings')
}

const THING: NodeSpec[] = rootedGraph([
  { type: 'object', name: 'Thing', id: 5, size: 24, edges: [{ type: 'property', name: 'label', to: 3 }] },
  { type: 'string', name: 'hello', id: 7, size: 16 }
])

t.test('a real snapshot reads as JSON.parse reads it, whatever the chunk size', async (t) => {
  const { after } = await writeLeakSnapshots(t.testdir(), 'ParserProbe', 100)
  const text = await readFile(after)
  const raw = JSON.parse(text.toString('utf8')) as RawSnapshot
  for (const size of [1, 7, 64 * 1024, text.length]) {
    t.test(`chunks of ${size} bytes`, async (t) => checkAgainstJson(t, parseInChunks(text, size), raw))
  }
})

t.test('strings that V8 escapes in a real snapshot decode to the original', async (t) => {
  const kept = 'héllo\nwörld "quoted" back\\slash\ttab \u0001 end'
  const path = await writeSnapshotKeeping(join(t.testdir(), 'kept.heapsnapshot'), kept)
  const text = await readFile(path)
  t.match(text.toString('latin1'), '\\u00E9', 'V8 writes non-ASCII as \\u escapes')
  for (const size of [1, 64 * 1024]) {
    t.ok(parseInChunks(text, size).strings.includes(kept + '!'), `chunks of ${size} bytes`)
  }
})

t.test('escapes, surrogate pairs and UTF-8 decode wherever the chunks split them', async (t) => {
  const strings = ['line\nbreak', 'say "hi"', 'back\\slash', 'trailing\\', '\\"', 'tab\tand \u0001', 'raw é ü 😀 UTF-8', 'ESCAPED']
  const text = snapshotText(THING, { extraStrings: strings })
    .replace('"ESCAPED"', '"\\u00e9t\\u00E9 \\ud83d\\ude00 \\u2028 \\/"')
  const expected = [...strings.slice(0, -1), 'été 😀 \u2028 /']
  for (let size = 1; size <= 13; size++) {
    t.same(parseInChunks(Buffer.from(text), size).strings.slice(0, expected.length), expected, `chunks of ${size} bytes`)
  }
})

t.test('field offsets come from snapshot.meta, not from V8\'s usual order', async (t) => {
  const usual = parseText(snapshotText(THING))
  const shuffled = parseText(snapshotText(THING, {
    nodeFields: ['edge_count', 'detachedness', 'id', 'self_size', 'name', 'type'],
    edgeFields: ['to_node', 'type', 'name_or_index']
  }))
  t.same(shuffled, usual)
  t.same([...usual.nodeId], [1, 3, 5, 7])
  t.same([...usual.nodeSelfSize], [0, 40, 24, 16])
  t.same([...usual.edgeToNode], [1, 2, 3, 3])
  t.equal(usual.strings[usual.nodeName[2] as number], 'Thing')
  t.equal(usual.rootOrdinal, 0)
})

t.test('root_index, when present, sets the root', async (t) => {
  t.equal(parseText(snapshotText(THING, { header: { root_index: 14 } })).rootOrdinal, 2)
})

t.test('without edges, the nodes are all there and the edge columns are empty', async (t) => {
  const snapshot = parseText(snapshotText(THING), { edges: false })
  t.equal(snapshot.nodeCount, 4)
  t.equal(snapshot.edgeCount, 4)
  t.same([...snapshot.nodeEdgeCount], [1, 2, 1, 0])
  t.equal(snapshot.edgeToNode.length, 0)
  t.equal(snapshot.edgeType.length, 0)
})

t.test('other sections are skipped, whatever they hold', async (t) => {
  const text = snapshotText(THING, {
    extraSections: {
      trace_function_infos: [1, 2, 3],
      trace_tree: [{ children: [1, { name: 'a "}]" string', more: [] }] }],
      samples: [],
      locations: [1, 2, 3, 4],
      flag: true,
      count: 12,
      nothing: null,
      note: 'x, "y" } ]'
    }
  })
  for (const size of [1, 5, 1 << 16]) t.same(parseInChunks(Buffer.from(text), size), parseText(snapshotText(THING)), `chunks of ${size} bytes`)
})

t.test('whitespace between any two tokens is fine', async (t) => {
  const compact = snapshotText(THING)
  const pretty = JSON.stringify(JSON.parse(compact), null, 2)
  for (const size of [1, 1 << 16]) t.same(parseInChunks(Buffer.from(pretty), size), parseText(compact), `chunks of ${size} bytes`)
})

t.test('a section after the strings is skipped too, up to the closing brace', async (t) => {
  const text = snapshotText(THING).replace(/\]\}\n$/, '],"last":12}')
  t.ok(text.endsWith('"last":12}'))
  t.same(parseText(text), parseText(snapshotText(THING)))
})

function rejects (t: Test, text: string | Buffer, message: RegExp, name: string): void {
  t.throws(() => parseInChunks(Buffer.from(text), 3), { name: 'FastifyError', code: 'FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT', message }, name)
}

t.test('what is not a snapshot says so', async (t) => {
  const good = snapshotText(THING)
  rejects(t, '', /^not a V8 heap snapshot: the file is empty$/, 'empty')
  rejects(t, ' \n\t ', /the file is empty/, 'only whitespace')
  rejects(t, '[1, 2]', /it starts with "\[", not "\{"/, 'a JSON array')
  rejects(t, Buffer.from([0, 1, 2]), /it starts with byte 0x00/, 'binary')
  rejects(t, '{"name": "fastify", "version": "5.0.0"}', /its first key is "name", not "snapshot"/, 'another JSON object')
  rejects(t, '{}', /it has no "snapshot" header/, 'an empty object')
  rejects(t, good.slice(0, good.indexOf(',\n"nodes"')) + '}', /it has no "nodes" array/, 'no nodes')
  rejects(t, good.replace(/"edges":\[[^\]]*\],/, ''), /it has no "edges" array/, 'no edges')
  rejects(t, good.replace(/,\n"strings":\[[^\]]*\]/, ''), /it has no "strings" array/, 'no strings')
  rejects(t, '{ 12: 1 }', /unexpected "1" where a key was expected/, 'a bad key')
  rejects(t, '{"snapshot" {}}', /unexpected "\{" after the key "snapshot"/, 'no colon')
  rejects(t, good.replace('},\n"nodes"', '} "nodes"'), /unexpected "\\"" after the value of "snapshot"/, 'no comma')
  rejects(t, good + '{}', /unexpected data after the end of the JSON object/, 'trailing data')
  rejects(t, good.replace('"nodes":[', '"nodes":{'), /"nodes" starts with "\{", not "\["/, 'nodes not an array')
  rejects(t, good.replace('"strings":[', '"strings":"'), /"strings" starts with "\\"", not "\["/, 'strings not an array')
  rejects(t, '{"snapshot": []}', /"snapshot" starts with "\[", not "\{"/, 'header not an object')
  rejects(t, good.replace('"strings":[', '"strings":[1,'), /unexpected "1" in the "strings" array/, 'a number among strings')
  rejects(t, good.replace('"Thing"', '"Th\\xing"'), /invalid JSON string "Th\\xing"/, 'a bad escape')
  rejects(t, good.replace('],\n"strings"', '],\n"nodes":[],\n"strings"'), /the key "nodes" appears twice/, 'a key twice')
})

t.test('the nodes and edges arrays must match the header', async (t) => {
  const good = snapshotText(THING)
  rejects(t, good.replace('"node_count":4', '"node_count":5'), /expected 5 nodes, got 4/, 'fewer nodes than announced')
  rejects(t, good.replace('"node_count":4', '"node_count":3'), /more nodes than the 3 announced in the header/, 'more nodes than announced')
  rejects(t, good.replace('"nodes":[', '"nodes":[99,'), /value 99 out of range for field 0 of the "nodes" array/, 'a node type out of range')
  rejects(t, good.replace('"nodes":[', '"nodes":[-'), /unexpected "-" in the "nodes" array/, 'a negative number')
  rejects(t, good.replace('"edge_count":4', '"edge_count":5'), /expected 5 edges, got 4/, 'fewer edges than announced')
  rejects(t, good.replace(/"edges":\[\d+/, '"edges":[4294967296'), /value 4294967296 out of range for field 0 of the "edges" array/, 'an edge type out of range')
  rejects(t, good.replace('"node_count":4', '"node_count":0').replace('"edge_count":4', '"edge_count":0')
    .replace(/"nodes":\[[^\]]*\]/, '"nodes":[]').replace(/"edges":\[[^\]]*\]/, '"edges":[]'), /it has no nodes/, 'no nodes at all')
  rejects(t, snapshotText(THING, { header: { root_index: 28 } }), /snapshot.root_index points past the 4 nodes/, 'a root past the end')
  rejects(t, snapshotText(THING, { header: { root_index: 3 } }), /snapshot.root_index is not a node position/, 'a root between nodes')
  rejects(t, snapshotText(THING, { header: { root_index: -7 } }), /snapshot.root_index is not a node position/, 'a negative root')
  rejects(t, good.replace('"nodes":[9,0,', '"nodes":[9,99,'), /node 0 names string 99, there are 7/, 'a node name out of range')
  rejects(t, good.replace('"nodes":[9,0,1,0,1', '"nodes":[9,0,1,0,2'), /edge counts add up to 5, snapshot.edge_count says 4/, 'edge counts that do not add up')
  rejects(t, good.replace(/"edges":\[(\d+),(\d+),7/, '"edges":[$1,$2,8'), /edge 0 points to 8, not to a node/, 'an edge into the middle of a node')
  rejects(t, good.replace(/"edges":\[(\d+),(\d+),7/, '"edges":[$1,$2,28'), /edge 0 points to 28, not to a node/, 'an edge past the nodes')
  rejects(t, good.replace(/"edges":\[(\d+),(\d+),/, '"edges":[$1,77,'), /edge 0 names string 77, there are 7/, 'an edge name out of range')
})

t.test('the header must describe the layout', async (t) => {
  const header = (meta: unknown, counts = '"node_count":0,"edge_count":0'): string => `{"snapshot":{"meta":${JSON.stringify(meta)},${counts}}}`
  const text = snapshotText(THING)
  const { meta } = JSON.parse(text.slice('{"snapshot":'.length, text.indexOf(',\n"nodes"'))) as { meta: Record<string, unknown> }
  rejects(t, '{"snapshot":{"meta": ,}}', /the "snapshot" header is not valid JSON/, 'not JSON')
  rejects(t, '{"snapshot":{}}', /snapshot has no "meta"/, 'no meta')
  rejects(t, header({ ...meta, node_fields: 'type' }), /snapshot.meta.node_fields is not a list of names/, 'node_fields not a list')
  rejects(t, header({ ...meta, node_fields: ['type', 'name', 'self_size', 'edge_count'] }), /snapshot.meta.node_fields lacks "id"/, 'no id field')
  rejects(t, header({ ...meta, edge_fields: ['type', 'name_or_index'] }), /snapshot.meta.edge_fields lacks "to_node"/, 'no to_node field')
  rejects(t, header({ ...meta, node_types: 'hidden' }), /snapshot.meta.node_types\[type\] is not a list of names/, 'node types not a list')
  rejects(t, header(meta, '"node_count":-1,"edge_count":0'), /snapshot.node_count is not a count/, 'a negative count')
  rejects(t, header(meta, '"node_count":1'), /snapshot has no "edge_count"/, 'no edge count')
  rejects(t, `{"snapshot":{"meta":{"pad":"${'x'.repeat(1 << 20)}"}}}`, /the "snapshot" header is larger than 1048576 bytes/, 'a header too big')
})

t.test('a truncated file says where it ends', async (t) => {
  const text = snapshotText(THING, { extraSections: { samples: [1, 2] } })
  const cut = (marker: string, extra = 0): string => text.slice(0, text.indexOf(marker) + marker.length + extra)
  const truncated = (part: string, message: RegExp, name: string): void => rejects(t, part, message, name)
  truncated(cut('{"snapshot":{"meta"'), /^truncated: the file ends in the "snapshot" header$/, 'in the header')
  truncated(cut('"nodes":['), /^truncated: expected 4 nodes, got 0$/, 'at the start of the nodes')
  truncated(cut('"nodes":[', 20), /^truncated: expected 4 nodes, got 1$/, 'in the nodes')
  truncated(cut('"edges":[', 3), /^truncated: expected 4 edges, got 0$/, 'in the edges')
  truncated(cut('"samples":[1'), /^truncated: the file ends before the end of the JSON object$/, 'in a skipped section')
  truncated(cut('"strings":['), /^truncated: the file ends in the "strings" array, after 0 strings$/, 'at the start of the strings')
  truncated(cut('"Thing"', -3), /^truncated: the file ends in the "strings" array, after 4 strings$/, 'in a string')
  truncated(text.trimEnd().slice(0, -1), /^truncated: the file ends before the end of the JSON object$/, 'just before the last brace')
  truncated('{"snap', /^truncated: the file ends before the end of the JSON object$/, 'in the first key')
})

t.test('keepString keeps the strings asked for and reads the others as empty, indexes unchanged', async (t) => {
  const text = snapshotText(rootedGraph([{ type: 'object', name: 'Thing', id: 5, size: 24 }, { type: 'string', name: 'secret token', id: 7, size: 32 }]))
  const all = parseText(text)
  const some = parseText(text, { keepString: (s) => s === 'Thing' })
  t.equal(some.strings.length, all.strings.length)
  t.equal(some.strings[some.nodeName[2] as number], 'Thing')
  t.equal(some.strings[some.nodeName[3] as number], '')
  t.same(some.nodeId, all.nodeId)
})

t.test('keepNamesOfTypes keeps the names of those nodes whatever keepString says', async (t) => {
  const text = snapshotText(rootedGraph([{ type: 'native', name: 'Node / ModuleWrap', id: 6, size: 24 }, { type: 'string', name: 'secret token', id: 7, size: 32 }]))
  const some = parseText(text, { keepString: () => false, keepNamesOfTypes: ['native'] })
  t.equal(some.strings[some.nodeName[2] as number], 'Node / ModuleWrap')
  t.equal(some.strings[some.nodeName[3] as number], '')
  t.equal(some.strings[some.nodeName[1] as number], '', 'nor the names of other types')
})
