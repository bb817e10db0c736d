// The leak the project is about, end to end: the demo app's POST /leaking-posts (a new Mongoose
// connection per request, never closed) against the project's wire server, with the correct
// POST /posts under load alongside, three snapshots through the plugin, then findLeaks.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { findGrowingSites, findLeaks } from '../../analysis/index.js'
import type { GrowingSitesReport } from '../../analysis/index.js'
import { drive } from '../../load/drive.js'
import type { TargetName } from '../../load/targets.js'
import { freePort } from '../../load/free-port.js'
import { startChildApp } from '../helpers/child-app.js'
import { downloadHeapProfile, downloadSnapshot, startHeapProfile } from '../helpers/leak-load.js'
import { tempDir } from '../helpers/build-app.js'

const TOKEN = 'leak-corpus-mongoose-token-0123456789'
const TENANTS = 8
const PHASE_SECONDS = 3
// The heap profile of the same run: a leaking request keeps ~70 kB spread over dozens of the
// driver's functions; at 8 KiB the app's two calls into Mongoose (createConnection, then the
// model's compile, ~1.2–1.5 × apart) are ranked from several hundred samples each.
const PROFILE_INTERVAL_BYTES = 8 * 1024

t.test('the demo\'s tenant connection leak: NativeConnection first with the driver\'s objects it drags, about 1 per POST /leaking-posts', async (t) => {
  const port = await freePort()
  const app = await startChildApp(t, 'test/fixtures/demo-app-server.ts', {
    PORT: String(port), HOST: '127.0.0.1', DIAGNOSTICS_TOKEN: TOKEN, LOG_LEVEL: 'warn'
  })
  const dir = tempDir(t, 'memdiag-corpus-mongoose-')
  const load = (target: TargetName, seconds: number, connections: number) =>
    drive({ target, url: app.url, durationSeconds: seconds, connections, tenants: TENANTS, render: false })
  const diagnostics = { url: app.url, diagnostics: '/_diagnostics', token: TOKEN }
  const profiles: string[] = []
  const snapshot = async (name: string) => {
    const file = await downloadSnapshot(diagnostics, join(dir, `${name}.heapsnapshot.gz`))
    // source maps only in the last: Node parses and keeps each map, which later profiles would show as growth
    profiles.push(await downloadHeapProfile(diagnostics, join(dir, `${name}.heapprofile`), { sourceMaps: name === 'C' }))
    return file
  }

  // warm-up: every tenant's correct connection exists, and the leaking path has run before
  await load('posts', 1, 4)
  await load('leaking-posts', 1, 1)
  await startHeapProfile(diagnostics, PROFILE_INTERVAL_BYTES)
  const files = [await snapshot('A')]
  for (const name of ['B', 'C']) {
    await Promise.all([load('leaking-posts', PHASE_SECONDS, 2), load('posts', PHASE_SECONDS, 2)])
    files.push(await snapshot(name))
  }
  await app.close()
  t.test('the heap profiles of the same run', async (t) => checkProfiles(t, await findGrowingSites(profiles)))

  const report = await findLeaks(files)
  const [first] = report.candidates
  t.comment(report.candidates.slice(0, 3).map((c) => `${c.className} (${c.objectClass}) ${c.countPerInterval.join('/')}, ${c.collection.kind} ${c.collection.label}, ` +
    (c.perRoute ?? []).map((r) => `${r.objectsPerRequest.toFixed(2)} per ${r.route}`).join(', ') +
    `; drags ${(c.drags ?? []).slice(0, 5).map((d) => `${d.count} ${d.objectClass}`).join(', ')}`).join('\n'))
  if (first === undefined) return t.fail('no candidate')
  t.equal(first.className, 'NativeConnection', 'the first candidate is the Mongoose connection')
  const dragged = (first.drags ?? []).map((d) => d.objectClass)
  const driverClasses = ['MongoClient', 'Topology', 'Server', 'ConnectionPool', 'Monitor']
  t.ok(driverClasses.every((c) => dragged.includes(c)), `with the driver's objects it drags: ${dragged.slice(0, 8).join(', ')}`)
  // A candidate of its own would keep a share of the leak's rate; one object born per interval
  // (a client still connecting at the snapshot, measured once on Node 20: MongoClient 1/1) is noise.
  const requests = report.requestsPerInterval ?? []
  const ofTheirOwn = report.candidates.filter((c) => driverClasses.includes(c.objectClass) &&
    c.countPerInterval.every((n, i) => n >= Math.max(2, 0.1 * (requests[i]?.['POST /leaking-posts'] ?? 0))))
  t.same(ofTheirOwn.map((c) => `${c.objectClass} ${c.countPerInterval.join('/')}`), [], 'which are no candidates of their own (a tenth of the leak\'s rate)')
  t.notSame(first.collection.kind, 'other', `held in a named collection: ${first.collection.kind} ${first.collection.label}`)
  const leaking = first.perRoute?.find((r) => r.route === 'POST /leaking-posts')
  t.ok(leaking !== undefined && Math.abs(leaking.objectsPerRequest - 1) <= 0.1, `${leaking?.objectsPerRequest.toFixed(3) ?? 'no figure'} per POST /leaking-posts, truly 1 (±10%)`)
  t.ok(requests.every((interval) => (interval['POST /leaking-posts'] ?? 0) > 20 && (interval['POST /posts'] ?? 0) > 20), 'both routes were under load in each interval')
})

/**
 * The first growing site is one of the driver's or Mongoose's allocations with the tenant code
 * on its stack, and summed by the app's call into the library the first is the tenant code's
 * `createConnection`, attributed to POST /leaking-posts.
 */
function checkProfiles (t: Test, sites: GrowingSitesReport): void {
  t.comment(sites.appCalls.slice(0, 3).map((c, i) => `#${i + 1} ${c.frame.functionName} → ${c.callee?.functionName ?? '-'} +${c.growthBytes} B, ` +
    `${c.route?.route ?? 'no route'} ${c.route?.bytesPerRequest ?? '?'} B per request`).join('\n'))
  const tenantCode = new URL('../../demo-app/tenants/leaking-tenant-connections.ts', import.meta.url).href
  const [site] = sites.sites
  t.ok(site?.stack.some((frame) => frame.functionName === 'postModel' && frame.source?.url === tenantCode),
    `the first growing site (${site?.functionName ?? 'none'}) has the tenant code's postModel on its stack`)
  t.equal(site?.route?.route, 'POST /leaking-posts', 'attributed to the leaking route')
  const [call] = sites.appCalls
  t.match(call, { frame: { functionName: 'postModel', source: { url: tenantCode } }, callee: { functionName: 'createConnection', url: /node_modules\/mongoose\// } },
    'the first growing app call: postModel → mongoose.createConnection')
  const lines = readFileSync(new URL(tenantCode), 'utf8').split('\n')
  t.match(lines[call?.frame.source?.line ?? 0], /mongoose\.createConnection\(/, 'postModel\'s first line is the createConnection call')
  t.equal(call?.route?.route, 'POST /leaking-posts', 'attributed to the leaking route')
  t.ok((call?.route?.bytesPerRequest ?? 0) > 5_000, `${call?.route?.bytesPerRequest ?? '?'} B per POST /leaking-posts under that call`)
  t.notOk(sites.appCalls.slice(0, 3).some((c) => c.route?.route === 'POST /posts'), 'the correct route is not among the first three app calls')
}
