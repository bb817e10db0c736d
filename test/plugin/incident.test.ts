// GET /incident through inject: the bundle's entries, the files only when asked, no secret in it,
// the plugin's auth and query checks. Snapshots here are the small files of build(); the live
// path (real snapshots, capture, report) is test/plugin/capture/incident-live.test.ts.
import { unlinkSync } from 'node:fs'
import t from 'tap'
import { AUTH, build, TOKEN } from '../helpers/build-app.js'
import { tarEntries } from '../helpers/tar-entries.js'
import { incidentArchive, listEvidence } from '../../plugin/incident/bundle.js'

async function entries (gz: Buffer): Promise<Map<string, string>> {
  return new Map([...await tarEntries(gz)].map(([name, bytes]) => [name, bytes.toString('utf8')]))
}

t.test('GET /incident: a .tar.gz with summary.md first, the documents, the files only with ?files=true', async (t) => {
  const { app } = await build(t, { capture: { startAfterMs: 0 } })
  const taken = await app.inject({ method: 'POST', url: '/heap-snapshot', headers: AUTH })
  t.equal(taken.statusCode, 201)

  const plain = await app.inject({ url: '/incident', headers: AUTH })
  t.equal(plain.statusCode, 200)
  t.equal(plain.headers['content-type'], 'application/gzip')
  t.match(plain.headers['content-disposition'], /^attachment; filename="incident-\d+-[0-9TZ-]+\.tar\.gz"$/)
  const bundle = await entries(plain.rawPayload)
  t.same([...bundle.keys()], ['summary.md', 'process.json', 'options.json', 'memory.json', 'gc-stats.json', 'trend/series.json', 'trend/verdict-history.json', 'captures.json'])
  t.match(bundle.get('summary.md'), /^# Memory incident: pid \d+ on .+\n[\s\S]*## Verdict\n\n\*\*insufficient-data\*\*[\s\S]*## Timeline\n[\s\S]*Nothing was captured[\s\S]*Left out:\n- 1 files in the snapshot directory \(ask with \?files=true\)/)
  t.notOk(bundle.get('options.json')?.includes(TOKEN), 'no token in the options')
  t.match(JSON.parse(bundle.get('options.json')!), { auth: { tokens: '1 token(s), not shown' }, capture: { startAfterMs: 0, maxSnapshots: 3 } })
  t.match(JSON.parse(bundle.get('captures.json')!), { captures: [], files: [{ kind: 'heap-snapshot', included: false }] })
  t.ok(Array.isArray(JSON.parse(bundle.get('trend/series.json')!).samples.heapUsed))

  const withFiles = await entries((await app.inject({ url: '/incident?files=true', headers: AUTH })).rawPayload)
  const files = [...withFiles.keys()].filter((name) => name.startsWith('files/'))
  t.equal(files.length, 1)
  t.match(files[0], /^files\/heap-.+\.heapsnapshot$/)
  t.match(withFiles.get('summary.md'), /In this bundle:\n- files\/heap-/)
})

t.test('GET /incident: auth and query checks as every route', async (t) => {
  const { app } = await build(t)
  t.equal((await app.inject({ url: '/incident' })).statusCode, 401)
  const bad = await app.inject({ url: '/incident?files=maybe', headers: AUTH })
  t.equal(bad.statusCode, 400)
  t.equal((await app.inject({ url: '/incident?other=1', headers: AUTH })).statusCode, 400)
})

t.test('a file that retention removes while the bundle streams still arrives whole', async (t) => {
  const dir = t.testdir({ 'capture-20261202T000000.000Z-0123456789abcdef.heapprofile': '{"head":{},"samples":[]}' })
  const files = listEvidence(dir)
  t.equal(files.length, 1)
  const archive = incidentArchive('# summary\n', {}, files)
  unlinkSync(files[0]!.path)
  const chunks: Buffer[] = []
  for await (const chunk of archive) chunks.push(chunk as Buffer)
  const bundle = await entries(Buffer.concat(chunks))
  t.equal(bundle.get('files/capture-20261202T000000.000Z-0123456789abcdef.heapprofile'), '{"head":{},"samples":[]}')
})
