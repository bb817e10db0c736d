// From alert to postmortem, live: a service that starts leaking mid-run and a steady control, both
// under the same real HTTP load for the same time, capture on. The leaking one ends with a bundle
// (GET /incident?files=true) holding the verdict's history, the captured snapshots and profiles,
// and a summary that, rendered by `report`, names the culprit; the control captured nothing.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import t from 'tap'
import { startChildApp } from '../../helpers/child-app.js'
import { tarEntries } from '../../helpers/tar-entries.js'
import { tempDir } from '../../helpers/build-app.js'

const TOKEN = 'incident-token-0123456789abcdef'
const LOAD_SECONDS = Number(process.env.INCIDENT_LOAD_SECONDS ?? 90)

t.setTimeout(240_000)

t.test('the leaking service ends with a bundle naming the culprit; the steady one captured nothing', async (t) => {
  const [leaky, steady] = await Promise.all(['quiet-leak', 'steady'].map((mode) =>
    startChildApp(t, 'test/fixtures/incident-service.ts', { MODE: mode, DIAGNOSTICS_TOKEN: TOKEN, SNAPSHOT_DIR: tempDir(t), LEAK_AFTER_S: '10' })))
  await Promise.all([leaky!, steady!].map((app) => autocannon({ url: `${app.url}/work`, method: 'POST', duration: LOAD_SECONDS, connections: 2, overallRate: 150 })))

  const bundles = await Promise.all([leaky!, steady!].map(async (app) => {
    const res = await fetch(`${app.url}/diag/incident?files=true`, { headers: { authorization: `Bearer ${TOKEN}` } })
    t.equal(res.status, 200)
    t.equal(res.headers.get('content-type'), 'application/gzip')
    return Buffer.from(await res.arrayBuffer())
  }))
  const refused = await fetch(`${leaky!.url}/diag/incident`)
  t.equal(refused.status, 401, 'authenticated')

  const [leak, control] = await Promise.all(bundles.map(tarEntries))
  const history = JSON.parse(leak!.get('trend/verdict-history.json')!.toString()) as Array<{ verdict: string }>
  t.ok(history.some((change) => change.verdict === 'growing-heap'), `the verdict's history shows the turn: ${history.map((c) => c.verdict).join(' → ')}`)
  const captures = JSON.parse(leak!.get('captures.json')!.toString()) as { captures: Array<{ kind: string, reason: string }> }
  const snapshots = captures.captures.filter((c) => c.kind === 'heap-snapshot')
  t.ok(snapshots.length >= 2 && snapshots.length <= 3, `${snapshots.length} snapshots captured (2 to 3)`)
  t.ok(captures.captures.every((c) => c.reason.startsWith('the trend verdict is growing-heap')), 'each with why')
  t.ok([...leak!.keys()].filter((name) => name.startsWith('files/heap-')).length === snapshots.length, 'the snapshot files are in the bundle')
  const summary = leak!.get('summary.md')!.toString()
  t.comment(summary)
  t.match(summary, /^# Memory incident: pid \d+/)
  t.match(summary, /\*\*growing-heap\*\*/)
  t.match(summary, /captured a heap-snapshot/)
  const options = JSON.parse(leak!.get('options.json')!.toString()) as { auth: { tokens: string } }
  t.notMatch(JSON.stringify(options), new RegExp(TOKEN), 'no token in the options')
  t.ok(leak!.has('trend/series.json') && leak!.has('memory.json') && leak!.has('gc-stats.json') && leak!.has('process.json'))

  const file = join(tempDir(t, 'memdiag-incident-test-'), 'incident.tar.gz')
  writeFileSync(file, bundles[0]!)
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'analysis/cli.ts', 'report', file], { maxBuffer: 16 * 1024 * 1024 })
  t.match(stdout, /## Leak candidates\n\n```\n[\s\S]*1\. TenantSession/, 'the rendered report names the culprit first')

  const controlCaptures = JSON.parse(control!.get('captures.json')!.toString()) as { captures: unknown[], files: unknown[] }
  t.same(controlCaptures.captures, [], 'the steady service captured nothing')
  t.same(controlCaptures.files, [], 'and its snapshot directory holds nothing')
  t.match(control!.get('summary.md')!.toString(), /Nothing was captured/)
})
