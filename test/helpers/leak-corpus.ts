// The leak corpus shared by test/analysis/leak-corpus-*.test.ts: kinds of leaks written for the
// tests, each run in a real Fastify app in a child process (no coverage: object ids and line-end
// caching as in production), under real HTTP load with a busy non-leaking route running all along,
// three snapshots taken and downloaded through the plugin's route between load phases, then
// findLeaks on the files. Split in two files to stay within tap's per-file timeout.
import type { Test } from 'tap'
import { findLeaks } from '../../analysis/index.js'
import type { CollectionKind, LeakReport } from '../../analysis/index.js'
import { startChildApp } from './child-app.js'
import { loadWithSnapshots } from './leak-load.js'
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

/** How the corpus app takes its snapshots: `redact` turns `snapshot.redact` on. */
export interface CorpusRun {
  redact?: boolean
}

export async function runLeakCorpusApp (t: Test, path: string | null, { redact = false }: CorpusRun = {}): Promise<LeakReport> {
  const app = await startChildApp(t, 'test/fixtures/leak-corpus-app.ts', { TOKEN, SNAPSHOT_DIR: tempDir(t), REDACT: redact ? '1' : '0' })
  const files = await loadWithSnapshots({
    url: app.url,
    diagnostics: '/_diagnostics',
    token: TOKEN,
    leak: path === null ? null : { method: 'POST', path },
    requestsPerPhase: REQUESTS_PER_PHASE,
    busyPath: '/busy',
    dir: tempDir(t, 'memdiag-corpus-'),
    snapshots: 3
  })
  await app.close()
  return findLeaks(files)
}

export function describe (report: LeakReport): string {
  return report.candidates.slice(0, 3).map((c, i) =>
    `#${i + 1} ${c.className} (${c.objectClass}) ${c.countPerInterval.join('/')} per interval, ${c.collection.kind} ${c.collection.label}, ` +
    `${(c.perRoute ?? []).map((r) => `${r.objectsPerRequest.toFixed(2)} per ${r.route}`).join(', ')}`).join('\n')
}

/** The first candidate of a run driving only `kind`'s route (and the busy one): its class, collection, objects per request. */
export async function checkLeakKind (t: Test, kind: LeakKind, run: CorpusRun = {}): Promise<void> {
  const report = await runLeakCorpusApp(t, kind.path, run)
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
  t.same(report.notes, [], 'nothing to warn about: three snapshots of one process, ids matched')
}
