// A real app in a child process under real HTTP load: a route that keeps one record per request
// beside a busy route making only garbage, three heap profiles taken over HTTP between phases of
// load, and the comparison naming the leaking handler first, attributed to its route.
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import autocannon from 'autocannon'
import t from 'tap'
import { findGrowingSites, formatGrowingSites } from '../../analysis/index.js'
import { startChildApp } from '../helpers/child-app.js'

const TOKEN = 'heap-profile-token-0123456789'
const REQUESTS_PER_PHASE = 1500
// what POST /leaking keeps per request: a 128-slot array (16 B header + 128 × 8 B) and its holder
const KEPT_BYTES_PER_REQUEST = 1040 + 32 + 24

t.test('three profiles under load name the leaking handler first, per request of its route', async (t) => {
  const app = await startChildApp(t, 'test/fixtures/heap-profile-app.ts', { DIAGNOSTICS_TOKEN: TOKEN })
  const dir = t.testdir()
  const busy = autocannon({ url: `${app.url}/busy`, connections: 2, duration: 600 }, () => {})
  const files: string[] = []
  try {
    for (let i = 0; i < 3; i++) {
      await autocannon({ url: `${app.url}/leaking`, method: 'POST', connections: 2, amount: REQUESTS_PER_PHASE })
      // the source maps only in the last: Node parses and keeps them, which the next profiles would show
      const res = await fetch(`${app.url}/_diagnostics/heap-profile${i === 2 ? '?sourceMaps=true' : ''}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      const body = Buffer.from(await res.arrayBuffer())
      t.equal(res.status, 200, `profile ${i + 1}: ${res.status === 200 ? '' : body.toString('utf8').slice(0, 300)}`)
      t.match(res.headers.get('content-disposition'), /\.heapprofile"$/)
      files.push(join(dir, `profile-${i}.heapprofile`))
      await writeFile(files[i]!, body)
    }
  } finally {
    busy.stop()
  }
  const report = await findGrowingSites(files)
  t.comment(formatGrowingSites(report).split('\n').slice(0, 24).join('\n'))
  const [first] = report.sites
  t.equal(first?.functionName, 'createSession', 'the leaking handler\'s own function is the first growing site')
  t.equal(first?.route?.route, 'POST /leaking', 'attributed to its route, by the handler on its stack')
  // tsx runs the fixture with source maps: the TypeScript line of the handler, not the generated one
  const fixture = new URL('../fixtures/heap-profile-app.ts', import.meta.url)
  const handlerLine = readFileSync(fixture, 'utf8').split('\n').findIndex((line) => line.includes('async function createSession')) + 1
  t.match(first?.source, { url: fixture.href, line: handlerLine }, `at heap-profile-app.ts:${handlerLine}, from the source map the process had`)
  t.equal(first?.route?.requests, 2 * REQUESTS_PER_PHASE, 'the requests from the first profile to the last')
  const perRequest = first?.route?.bytesPerRequest ?? 0
  t.ok(perRequest > KEPT_BYTES_PER_REQUEST * 0.4 && perRequest < KEPT_BYTES_PER_REQUEST * 2.5,
    `${perRequest} B per request estimated from the samples, ${KEPT_BYTES_PER_REQUEST} B kept`)
  const routes = report.profiles.at(-1)?.requestCounts ?? {}
  t.ok((routes['GET /busy'] ?? 0) > (routes['POST /leaking'] ?? 0), 'the busy route had more requests than the leaking one')
  t.notOk(report.sites.slice(0, 3).some((site) => site.route?.route === 'GET /busy'), 'the busy route is not among the first growing sites')
  const profile = JSON.parse(readFileSync(files[2]!, 'utf8')) as { memoryDiagnostics: { routes: Array<{ route: string, handler: { functionName: string } | null }> } }
  t.same(profile.memoryDiagnostics.routes.map((r) => [r.route, r.handler?.functionName]).sort(),
    [['GET /busy', 'renderPage'], ['POST /leaking', 'createSession']], 'each route\'s handler is located')
})
