// The leak corpus shared by test/analysis/leak-corpus-*.test.ts: kinds of leaks written for the
// tests, each run in a real Fastify app in a child process (no coverage: object ids and line-end
// caching as in production), under real HTTP load with a busy non-leaking route running all along,
// three snapshots taken and downloaded through the plugin's route between load phases, then
// findLeaks on the files. Split in two files to stay within tap's per-file timeout.
import { readFileSync } from 'node:fs'
import type { Test } from 'tap'
import { findGrowingSites, findLeaks } from '../../analysis/index.js'
import type { CollectionKind, GrowingSite, GrowingSitesReport, LeakReport } from '../../analysis/index.js'
import { startChildApp } from './child-app.js'
import { loadWithSnapshotsAndProfiles } from './leak-load.js'
import { tempDir } from '../helpers/build-app.js'

const TOKEN = 'leak-corpus-token-0123456789abcdef'
const REQUESTS_PER_PHASE = 200
// What a run without a leak may still show in every interval: a handful of objects (the plugin's
// own GC slots, a timer re-armed, a feedback vector): measured up to 10. A leak of one object per
// request shows REQUESTS_PER_PHASE (a tenth of it for a leak on one request in ten).
export const NOISE_PER_INTERVAL = REQUESTS_PER_PHASE / 10

export interface LeakKind {
  name: string
  path: string
  /** The class the app creates and keeps per request. */
  className: string
  collection: CollectionKind
  /** Objects kept per request of the route (the error path is every second request). */
  perRequest: number
  /** Known gaps of the finder: the assertion is reported, as TODO, without failing the suite. */
  todo?: { className?: string, perRequest?: string }
}

export const KINDS: LeakKind[] = [
  {
    name: 'event listeners added per request, never removed',
    path: '/subscribe',
    className: 'QuoteSubscriber',
    collection: 'listeners',
    perRequest: 1
  },
  {
    name: 'an interval per request, never cleared',
    path: '/heartbeat',
    className: 'HeartbeatTask',
    collection: 'timers',
    perRequest: 1
  },
  {
    name: 'closures kept in a long-lived array',
    path: '/audit',
    className: 'AuditEntry',
    collection: 'Array',
    perRequest: 1
  },
  { name: 'a cache without eviction on the error path', path: '/render', className: 'RenderFailure', collection: 'Map', perRequest: 0.5 },
  { name: 'a global array', path: '/log', className: 'RequestLogRecord', collection: 'Array', perRequest: 1 }
]

// The heap is sampled over the same run: a leak of one ~650 B object per request keeps ~130 kB
// per interval, a quarter of one sample at V8's 512 KiB default and 4 at 32 KiB (an interval
// with none then and then happens); at 4 KiB about 30, so that the growth shows in every interval.
const PROFILE_INTERVAL_BYTES = 4 * 1024

/** A leak inside an npm library: lru-cache holds what the app hands it (test/analysis/leak-corpus-library.test.ts). */
export const LIBRARY_KIND: LeakKind = {
  name: 'lru-cache misused: a TTL and no max, keyed per request',
  path: '/quotes',
  className: 'QuoteSnapshot',
  collection: 'Array',
  perRequest: 1
}

/** How the corpus app takes its snapshots: `redact` turns `snapshot.redact` on. */
export interface CorpusRun {
  redact?: boolean
}

export async function runLeakCorpusApp (t: Test, path: string | null, run: CorpusRun = {}): Promise<LeakReport> {
  return (await runLeakCorpusWithProfiles(t, path, run)).report
}

/** One corpus run: the snapshots' leak report, and the comparison of the heap profiles read after each snapshot. */
export async function runLeakCorpusWithProfiles (t: Test, path: string | null, { redact = false }: CorpusRun = {}): Promise<{ report: LeakReport, sites: GrowingSitesReport }> {
  const app = await startChildApp(t, 'test/fixtures/leak-corpus-app.ts', { TOKEN, SNAPSHOT_DIR: tempDir(t), REDACT: redact ? '1' : '0' })
  const { snapshots, profiles } = await loadWithSnapshotsAndProfiles({
    url: app.url,
    diagnostics: '/_diagnostics',
    token: TOKEN,
    leak: path === null ? null : { method: 'POST', path },
    requestsPerPhase: REQUESTS_PER_PHASE,
    busyPath: '/busy',
    dir: tempDir(t, 'memdiag-corpus-'),
    snapshots: 3,
    heapProfile: { intervalBytes: PROFILE_INTERVAL_BYTES }
  })
  await app.close()
  return { report: await findLeaks(snapshots, { profiles }), sites: await findGrowingSites(profiles) }
}

export function describe (report: LeakReport): string {
  return report.candidates.slice(0, 3).map((c, i) =>
    `#${i + 1} ${c.className} (${c.objectClass}) ${c.countPerInterval.join('/')} per interval, ${c.collection.kind} ${c.collection.label}, ` +
    `${(c.perRoute ?? []).map((r) => `${r.objectsPerRequest.toFixed(2)} per ${r.route}`).join(', ')}`).join('\n')
}

/** The first candidate of a run driving only `kind`'s route (and the busy one): its class, collection, objects per request. */
export async function checkLeakKind (t: Test, kind: LeakKind, run: CorpusRun = {}): Promise<void> {
  const { report, sites } = await runLeakCorpusWithProfiles(t, kind.path, run)
  t.test('the heap profiles of the same run', (t) => checkProfileSite(t, kind, sites))
  t.comment(describe(report))
  const [first] = report.candidates
  if (first === undefined) {
    t.fail('no candidate at all')
    return
  }
  t.ok(first.className === kind.className || first.objectClass === kind.className,
    `the first candidate is ${kind.className} (found ${first.className}, objects of ${first.objectClass})`,
    kind.todo?.className === undefined ? {} : { todo: kind.todo.className })
  t.equal(first.collection.kind, kind.collection, `held by ${kind.collection}: ${first.collection.label}`)
  t.ok(first.countPerInterval.every((n) => n > NOISE_PER_INTERVAL), 'it grew in every interval, above the noise')
  const route = `POST ${kind.path}`
  const share = first.perRoute?.find((r) => r.route === route)
  t.ok(share !== undefined && Math.abs(share.objectsPerRequest - kind.perRequest) <= kind.perRequest * 0.1,
    `${share?.objectsPerRequest.toFixed(3) ?? 'no figure'} per ${route}, truly ${kind.perRequest} (±10%)`,
    kind.todo?.perRequest === undefined ? {} : { todo: kind.todo.perRequest })
  const allocated = first.allocatedBy
  t.equal(allocated?.basis, 'constructor', 'the profiles tell where it was allocated: its constructor is on a growing site\'s stack')
  t.ok(allocated?.stack.some((frame) => frame.functionName === kind.className && frame.source?.line === constructorLine(kind.className)),
    `allocated by ${allocated?.stack.map((f) => f.functionName).join(' ← ') ?? 'nothing'}`)
  t.equal(allocated?.route?.route, route, 'under the route\'s handler')
  t.same(report.notes, [], 'nothing to warn about: three snapshots of one process, ids matched')
}

/**
 * The heap profiles' site of the leak, among the first growing sites under a route's handler: the
 * leaked object's allocation, with the leaking class's constructor (the leak's own line in the
 * fixture) on its stack, attributed to the kind's route.
 */
export function checkProfileSite (t: Test, kind: LeakKind, sites: GrowingSitesReport): void {
  t.comment(sites.sites.slice(0, 3).map((s, i) => `#${i + 1} ${s.functionName} ${s.url.split('/').at(-1)}:${s.line} +${s.growthBytes} B, ${s.route?.route ?? 'no route'}; ` +
    s.stack.slice(0, 5).map((f) => f.functionName).join(' ← ')).join('\n'))
  // What is in flight at a read can outgrow the smallest leak (/render: one object per two
  // requests, ~80–120 kB an interval): without a handler on its stack (the HTTP parser's buffers
  // of the busy route, a download's zlib buffers), or under one: on Node 22 a response's write
  // buffers under POST /render itself, +136 kB in one interval and a little in the other, came
  // first once in three CI runs. Sites are ranked by their growth from the first profile to the
  // last, so the claim is that the leak's site is among the first two under a route's handler.
  const fixtureLine = constructorLine(kind.className)
  const isLeak = (site: GrowingSite): boolean =>
    site.stack.some((frame) => frame.functionName === kind.className && frame.source?.url === FIXTURE && frame.source.line === fixtureLine)
  const underRoutes = sites.sites.filter((site) => site.route !== null)
  const rank = underRoutes.findIndex(isLeak)
  t.ok(rank !== -1 && rank < 2, `${kind.className}'s constructor (leak-corpus-app.ts:${fixtureLine}) is on the stack of one of the first two sites under a route's handler (rank ${rank + 1} of ${underRoutes.length})`)
  const leak = underRoutes[rank]
  t.equal(leak?.route?.route, `POST ${kind.path}`, 'attributed to the leaking route, by its handler on the stack')
  t.equal(leak?.route?.requests, 2 * REQUESTS_PER_PHASE, 'the route\'s requests from the first profile to the last')
  t.end()
}

const FIXTURE = new URL('../fixtures/leak-corpus-app.ts', import.meta.url).href

/** Where the class's constructor starts in the fixture (1-based): the line V8 gives its function. */
function constructorLine (className: string): number {
  const lines = readFileSync(new URL(FIXTURE), 'utf8').split('\n')
  const start = lines.findIndex((line) => line.startsWith(`class ${className} `))
  return lines.findIndex((line, i) => i > start && line.trimStart().startsWith('constructor (')) + 1
}
