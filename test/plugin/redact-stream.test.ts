// The streaming rewriter of snapshot.redact on hand-built snapshots (real ones: redact.test.ts).
import t from 'tap'
import { REQUEST_COUNT_MARK_PREFIX } from '../../plugin/request-counter.js'
import { redactedPlaceholder, SnapshotRedactionError, SnapshotRedactor } from '../../plugin/snapshot/redact-stream.js'
import type { RedactSettings, RedactSummary } from '../../plugin/snapshot/redact-stream.js'
import { rootedGraph, snapshotText } from '../analysis/fixtures.js'
import type { NodeSpec } from '../analysis/fixtures.js'

const MARK = `${REQUEST_COUNT_MARK_PREFIX}{"v":1,"pid":1,"at":2,"route":"GET /x","count":3}`
const SETTINGS: RedactSettings = { keepShorterThan: 0, keepPrefixes: [REQUEST_COUNT_MARK_PREFIX] }

// A session object with a token, a value that is also a property name, a value that is also a
// class name, a concatenated string of two secret parts, a request-count mark, a non-ASCII value.
const HELD: NodeSpec[] = [
  {
    type: 'object',
    name: 'Session',
    id: 5,
    size: 32,
    edges: [
      { type: 'property', name: 'token', to: 3 },
      { type: 'property', name: 'kind', to: 4 },
      { type: 'property', name: 'owner', to: 5 },
      { type: 'property', name: 'joined', to: 6 },
      { type: 'element', name: 0, to: 9 },
      { type: 'property', name: 'note', to: 10 }
    ]
  },
  { type: 'string', name: 'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig', id: 7, size: 64 },
  { type: 'string', name: 'token', id: 9, size: 24 }, // equal to a property name: a name
  { type: 'string', name: 'Session', id: 11, size: 24 }, // equal to a class name: a name
  {
    type: 'concatenated string',
    name: '(concatenated string)',
    id: 13,
    size: 32,
    edges: [{ type: 'internal', name: 'first', to: 7 }, { type: 'internal', name: 'second', to: 8 }]
  },
  { type: 'string', name: 'alice@example.com', id: 15, size: 32 },
  { type: 'string', name: '4111 1111 1111 1111', id: 17, size: 32 },
  { type: 'string', name: MARK, id: 19, size: 96 },
  { type: 'string', name: 'naïve “quoted” \\ \n 😀', id: 21, size: 40 }
]

const SNAPSHOT = Buffer.from(snapshotText(rootedGraph(HELD)))

function redact (input: Buffer, chunkBytes: number, settings = SETTINGS): { text: string, summary: RedactSummary } {
  const out: Buffer[] = []
  const redactor = new SnapshotRedactor(settings, (bytes) => { out.push(Buffer.from(bytes)) })
  // one reused buffer, as the worker reads: the rewriter must copy what it keeps across chunks
  const chunk = Buffer.alloc(chunkBytes)
  for (let at = 0; at < input.length; at += chunkBytes) {
    const read = input.copy(chunk, 0, at, at + chunkBytes)
    redactor.write(chunk.subarray(0, read))
  }
  const summary = redactor.end()
  return { text: Buffer.concat(out).toString('utf8'), summary }
}

function stringsOf (text: string): string[] {
  return (JSON.parse(text) as { strings: string[] }).strings
}

t.test('replaces the values of string nodes and keeps every name, the marks and the rest of the file', async (t) => {
  const { text, summary } = redact(SNAPSHOT, 1 << 16)
  const before = JSON.parse(SNAPSHOT.toString()) as { strings: string[], nodes: number[], edges: number[] }
  const after = JSON.parse(text) as typeof before
  t.same(after.nodes, before.nodes, 'nodes unchanged')
  t.same(after.edges, before.edges, 'edges unchanged')
  t.equal(after.strings.length, before.strings.length, 'the table keeps its length: every index stays valid')
  const replaced = before.strings.filter((s, i) => after.strings[i] !== s)
  t.same(replaced.sort(), ['4111 1111 1111 1111', 'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig', 'alice@example.com', 'naïve “quoted” \\ \n 😀'].sort())
  t.ok(after.strings.includes(redactedPlaceholder(40)), 'the placeholder says the length in UTF-16 units')
  t.ok(after.strings.includes(redactedPlaceholder('naïve “quoted” \\ \n 😀'.length)), 'non-ASCII and escapes counted as .length counts')
  for (const name of ['token', 'Session', 'kind', 'owner', 'first', 'second', '(concatenated string)', MARK]) {
    t.ok(after.strings.includes(name), `kept: ${name.slice(0, 40)}`)
  }
  t.same(summary, { strings: before.strings.length, redactedStrings: 4, keptValues: 1 })
})

t.test('the output is the same however the input is cut into chunks', async (t) => {
  const whole = redact(SNAPSHOT, SNAPSHOT.length).text
  for (const size of [1, 2, 3, 5, 7, 13, 64, 1000]) {
    t.equal(redact(SNAPSHOT, size).text, whole, `chunks of ${size} bytes`)
  }
})

t.test('keepShorterThan keeps short values, and only those', async (t) => {
  for (const size of [1, 4096]) {
    const strings = stringsOf(redact(SNAPSHOT, size, { ...SETTINGS, keepShorterThan: 18 }).text)
    t.ok(strings.includes('alice@example.com'), '17 characters: kept')
    t.notOk(strings.includes('4111 1111 1111 1111'), '19 characters: replaced')
  }
})

t.test('without the mark prefix the marks are values like any other', async (t) => {
  const strings = stringsOf(redact(SNAPSHOT, 7, { keepShorterThan: 0, keepPrefixes: [] }).text)
  t.notOk(strings.includes(MARK))
})

t.test('a long kept mark split across chunks is copied whole', async (t) => {
  const long = `${REQUEST_COUNT_MARK_PREFIX}${'x'.repeat(900)}`
  const input = Buffer.from(snapshotText(rootedGraph([{ type: 'string', name: long, id: 5, size: 24 }])))
  for (const size of [3, 50, 1 << 16]) t.ok(stringsOf(redact(input, size).text).includes(long), `chunks of ${size}`)
})

t.test('the sections V8 writes between edges and strings hold numbers and pass as they are', async (t) => {
  const input = Buffer.from(snapshotText(rootedGraph(HELD), {
    extraSections: { trace_function_infos: [], trace_tree: [1, 0, 2, 3, [4, 0, 1, 1, []]], samples: [10, 3], locations: [2, 1, 5, 7] }
  }))
  const after = JSON.parse(redact(input, 5).text) as Record<string, unknown>
  t.same(after.trace_tree, [1, 0, 2, 3, [4, 0, 1, 1, []]])
  t.same(after.locations, [2, 1, 5, 7])
})

t.test('trace function names and script names are names', async (t) => {
  const held: NodeSpec[] = [{ type: 'string', name: 'handler', id: 5 }, { type: 'string', name: '/app/server.js', id: 7 }]
  const text = snapshotText(rootedGraph(held), {
    extraSections: { trace_function_infos: [1, 4, 5, 1, 10, 2] }
  })
  // the fixture writes the header's meta itself: add the trace fields to it
  const input = Buffer.from(text.replace('"edge_fields"', '"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"edge_fields"'))
  const strings = stringsOf(redact(input, 3).text)
  const original = stringsOf(input.toString())
  t.equal(strings[4], original[4])
  t.equal(strings[5], original[5])
})

t.test('refuses what it cannot vouch for', async (t) => {
  const cut = SNAPSHOT.subarray(0, SNAPSHOT.length - 40)
  t.throws(() => redact(cut, 100), SnapshotRedactionError, 'a snapshot cut short')
  t.throws(() => redact(Buffer.from('{"snapshot":{"meta":{}},"nodes":[]}'), 100), /no node or edge layout/)
  t.throws(() => redact(Buffer.from(snapshotText(rootedGraph(HELD), { extraSections: { future: ['a secret'] } })), 100),
    /"future" section holds strings/, 'an unknown section with strings: never copied unredacted')
  t.throws(() => redact(Buffer.from(snapshotText(rootedGraph(HELD), { extraSections: { samples: ['x'] } })), 100), /numeric section/)
  t.throws(() => redact(Buffer.from(`${SNAPSHOT.toString()}{}`), 100), /goes on after its end/)
  t.throws(() => redact(Buffer.from('{"strings":["a"]}'), 100), /before the header/)
})
