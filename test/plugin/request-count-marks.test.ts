import t from 'tap'
import { findLeaks, parseHeapSnapshot } from '../../analysis/index.js'
import { readRequestCounts } from '../../analysis/request-counts.js'
import { REQUEST_COUNT_MARK_PREFIX } from '../../plugin/request-counter.js'
import { postHeapSnapshot } from '../../load/snapshot-request.js'
import { startChildApp } from '../helpers/child-app.js'
import { tempDir } from '../helpers/build-app.js'

const TOKEN = 'request-count-marks-token-0123456789'

interface Written {
  filePath: string
  requests: { at: number, counts: Record<string, number>, sincePrevious: Record<string, number> }
}

async function takeSnapshot (url: string): Promise<Written> {
  const res = await postHeapSnapshot(url, TOKEN)
  const body = await res.json() as Written
  if (res.status !== 201) throw new Error(`POST /heap-snapshot answered ${res.status}: ${JSON.stringify(body)}`)
  return body
}

async function stringNodes (file: string): Promise<Set<string>> {
  const snapshot = await parseHeapSnapshot(file, { edges: false })
  const strings = new Set<string>()
  for (let i = 0; i < snapshot.nodeCount; i++) {
    if (snapshot.nodeTypeNames[snapshot.nodeType[i] as number] === 'string') strings.add(snapshot.strings[snapshot.nodeName[i] as number] as string)
  }
  return strings
}

// In a child without coverage: a snapshot of tap's own process (TypeScript compiler loaded) is slow.
t.test('each snapshot carries the request counts of the whole app: in its 201 and as string nodes inside the file', async (t) => {
  const app = await startChildApp(t, 'test/fixtures/stable-ids-app.ts', { TOKEN, SNAPSHOT_DIR: tempDir(t) })
  for (let i = 0; i < 4; i++) await (await fetch(`${app.url}/hello`)).arrayBuffer()
  const first = await takeSnapshot(app.url)
  t.same(first.requests.counts, { 'GET /hello': 4 }, 'a route outside the plugin\'s context, not the plugin\'s own routes')
  t.same(first.requests.sincePrevious, first.requests.counts)
  for (let i = 0; i < 3; i++) await (await fetch(`${app.url}/hello`)).arrayBuffer()
  const second = await takeSnapshot(app.url)
  t.same(second.requests.counts, { 'GET /hello': 7 })
  t.same(second.requests.sincePrevious, { 'GET /hello': 3 })

  for (const { filePath, requests } of [first, second]) {
    const strings = await stringNodes(filePath)
    for (const [route, count] of Object.entries(requests.counts)) {
      const mark = `${REQUEST_COUNT_MARK_PREFIX}${JSON.stringify({ v: 1, pid: app.pid, at: requests.at, route, count })}`
      t.ok(strings.has(mark), `the snapshot has the string ${mark}`)
    }
    const routes = Object.keys(requests.counts).length
    t.ok(strings.has(`${REQUEST_COUNT_MARK_PREFIX}${JSON.stringify({ v: 1, pid: app.pid, at: requests.at, routes })}`), 'and the number of routes marked')
    // the prefix alone is a string node too (the constant): a mark is the prefix and its JSON
    const marks = [...strings].filter((s) => s.startsWith(`${REQUEST_COUNT_MARK_PREFIX}{`))
    t.equal(marks.length, routes + 1, 'and only the marks of its own mark() (the previous ones are garbage)')
  }
})

t.test('a baseline snapshot taken before any request keeps the per-route attribution of the series', async (t) => {
  const app = await startChildApp(t, 'test/fixtures/stable-ids-app.ts', { TOKEN, SNAPSHOT_DIR: tempDir(t) })
  // two snapshots: the fixture keeps the default budget of 2 per 10 minutes
  const files = [(await takeSnapshot(app.url)).filePath]
  for (let i = 0; i < 3; i++) await (await fetch(`${app.url}/hello`)).arrayBuffer()
  files.push((await takeSnapshot(app.url)).filePath)
  const baseline = readRequestCounts(await parseHeapSnapshot(files[0]!, { edges: false }))
  t.same(baseline?.counts, {}, 'the baseline says: no request yet (not: no counts)')
  const report = await findLeaks(files)
  t.same(report.requestsPerInterval, [{ 'GET /hello': 3 }], 'the finder has the requests of the interval')
  t.notOk(report.notes.some((note) => /request counts/.test(note)), 'and no note that counts are missing')
})
