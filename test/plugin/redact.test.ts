// snapshot.redact on real snapshots of a real process: the secrets planted in its heap are in an
// unredacted snapshot and not in the redacted one, which Chrome DevTools' parser and ours read.
import { randomBytes, randomInt } from 'node:crypto'
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'heap-snapshot-toolkit'
import t from 'tap'
import { parseHeapSnapshot, readRequestCounts } from '../../analysis/index.js'
import type { HeapSnapshot } from '../../analysis/index.js'
import { edgeStarts } from '../../analysis/edge-starts.js'
import { startChildApp } from '../helpers/child-app.js'
import { tempDir } from '../helpers/build-app.js'

const TOKEN = 'redact-test-token-0123456789abcdef'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const base64url = (text: string) => Buffer.from(text).toString('base64url')
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('')

/** One of each kind of secret, fresh: a bearer token, an e-mail, a card number, a JWT. */
function secrets (): string[] {
  return [
    `Bearer ${hex(20)}`,
    `${hex(5)}.customer@${hex(3)}.example.com`,
    `4${digits(3)}-${digits(4)}-${digits(4)}-${digits(4)}`,
    `${base64url('{"alg":"HS256","typ":"JWT"}')}.${base64url(`{"sub":"${hex(6)}","admin":true}`)}.${randomBytes(32).toString('base64url')}`
  ]
}

function halves (secret: string): [string, string] {
  const middle = Math.floor(secret.length / 2)
  return [secret.slice(0, middle), secret.slice(middle)]
}

/** Whether a node of `type` has an edge to a string node named `text` (or containing it). */
function holdsString (snapshot: HeapSnapshot, type: string, text: string): boolean {
  const wanted = snapshot.nodeTypeNames.indexOf(type)
  const flat = snapshot.nodeTypeNames.indexOf('string')
  const first = edgeStarts(snapshot.nodeEdgeCount)
  for (let node = 0; node < snapshot.nodeCount; node++) {
    if (snapshot.nodeType[node] !== wanted) continue
    for (let e = first[node] as number; e < (first[node + 1] as number); e++) {
      const to = snapshot.edgeToNode[e] as number
      if (snapshot.nodeType[to] === flat && (snapshot.strings[snapshot.nodeName[to] as number] as string).includes(text)) return true
    }
  }
  return false
}

t.test('secrets planted in the heap are in a raw snapshot and nowhere in the redacted one', async (t) => {
  const dir = tempDir(t)
  const app = await startChildApp(t, 'test/fixtures/redact-secrets-app.ts', { TOKEN, SNAPSHOT_DIR: dir })
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
  const flat = secrets()
  const concatenated = secrets()
  const sliced = secrets()
  const buffers = secrets()
  const plant = { flat, halves: concatenated.map(halves), sliced, buffers: buffers.map((s) => Buffer.from(s).toString('hex')) }
  const planted = await fetch(`${app.url}/plant`, { method: 'POST', headers, body: JSON.stringify(plant) })
  t.equal(planted.status, 200)

  const taken = await fetch(`${app.url}/_diagnostics/heap-snapshot`, { method: 'POST', headers: { authorization: headers.authorization } })
  t.equal(taken.status, 201)
  const written = await taken.json() as { filePath: string, redaction?: { strings: number, redactedStrings: number, keptValues: number, via: string } }
  const rawPath = join(tempDir(t, 'memdiag-raw-'), 'raw.heapsnapshot')
  t.equal((await fetch(`${app.url}/raw-snapshot`, { method: 'POST', headers, body: JSON.stringify({ path: rawPath }) })).status, 200)
  await app.close()

  t.match(written.redaction, { via: 'pipe' }, 'the raw snapshot went through a pipe, never to the disk')
  t.ok((written.redaction?.redactedStrings ?? 0) > 1000, `${written.redaction?.redactedStrings} of ${written.redaction?.strings} strings replaced`)
  t.equal(statSync(written.filePath).mode & 0o777, 0o600)
  t.same(readdirSync(dir), [written.filePath.slice(dir.length + 1)], 'no raw or temporary file left')

  const raw = readFileSync(rawPath)
  const redacted = readFileSync(written.filePath)
  const rawSnapshot = await parseHeapSnapshot(rawPath)
  for (const [shape, values] of [['flat', flat], ['concatenated', concatenated.flatMap(halves)], ['sliced', sliced]] as const) {
    for (const value of values) {
      t.ok(raw.includes(value), `${shape}: in the raw snapshot: ${value.slice(0, 24)}…`)
      t.notOk(redacted.includes(value), `${shape}: not in the redacted one`)
      t.notOk(redacted.includes(JSON.stringify(value).slice(1, -1)), `${shape}: nor escaped as JSON`)
    }
  }
  for (const [a] of concatenated.map(halves)) t.ok(holdsString(rawSnapshot, 'concatenated string', a), 'the concatenated values are V8 cons strings')
  for (const value of sliced) t.ok(holdsString(rawSnapshot, 'sliced string', value), 'the sliced values are V8 sliced strings')
  // V8 writes no backing store of an ArrayBuffer (a Buffer's bytes) into a snapshot: the bytes are
  // in neither file. Should a V8 start writing them, this fails and redaction must cover them.
  for (const value of buffers) {
    t.notOk(raw.includes(value), `a Buffer's bytes are not in the raw snapshot: ${value.slice(0, 24)}…`)
    t.notOk(redacted.includes(value), 'nor in the redacted one')
  }

  const snapshot = await parseHeapSnapshot(written.filePath)
  for (const name of ['PlantedSecrets', 'flatValues', 'concatenatedValues', 'slicedValues', 'bufferValues']) {
    t.ok(snapshot.strings.includes(name), `a name survives: ${name}`)
  }
  t.match(readRequestCounts(snapshot), { counts: { 'POST /plant': 1 } }, 'the request-count marks survive')
  const devTools = await parse(createReadStream(written.filePath, 'utf-8')) as unknown as { nodeCount: number }
  t.equal(devTools.nodeCount, snapshot.nodeCount, 'Chrome DevTools\' parser reads it, every node')
})
