import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { diffHeapSnapshots } from '../../analysis/index.js'
import { postHeapSnapshot } from '../../load/snapshot-request.js'
import { uncoveredChildEnv } from '../helpers/child-env.js'
import { startChildApp } from '../helpers/child-app.js'
import { tempDir } from '../helpers/build-app.js'

const TOKEN = 'stable-ids-test-token-0123456789'

async function takeSnapshot (url: string): Promise<string> {
  const res = await postHeapSnapshot(url, TOKEN)
  const body = await res.json() as { filePath: string }
  if (res.status !== 201) throw new Error(`POST /heap-snapshot answered ${res.status}: ${JSON.stringify(body)}`)
  return body.filePath
}

// V8 matches objects across snapshots by the ids of its heap object id map; anything that clears
// the map (an inspector session disconnecting does) renumbers every object, and the Comparison
// and the leak finder then see the whole heap as new. Default options, no coverage: as in production.
t.test('two snapshots through the plugin with nothing in between: almost no object is new', async (t) => {
  const dir = tempDir(t)
  const app = await startChildApp(t, 'test/fixtures/stable-ids-app.ts', { TOKEN, SNAPSHOT_DIR: dir })
  const res = await fetch(`${app.url}/hello`)
  t.equal(res.status, 200)
  const first = await takeSnapshot(app.url)
  const second = await takeSnapshot(app.url)
  const diff = await diffHeapSnapshots(first, second, { retainerPaths: 0 })
  const newShare = diff.totals.addedCount / diff.after.nodeCount
  t.comment(`# New ${diff.totals.addedCount}, # Deleted ${diff.totals.removedCount} of ${diff.after.nodeCount} nodes (${(newShare * 100).toFixed(2)}% new)`)
  t.ok(newShare < 0.02, `# New is ${(newShare * 100).toFixed(2)}% of the nodes, below 2%`)
  t.ok(diff.totals.removedCount / diff.before.nodeCount < 0.02, '# Deleted below 2% too')
})

t.test('a later app in the same process: the first one\'s onClose does not renumber the objects', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/stable-ids-two-apps.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...uncoveredChildEnv(), TOKEN, SNAPSHOT_DIR: tempDir(t) }
  })
  const { files } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { files: [string, string] }
  const diff = await diffHeapSnapshots(files[0], files[1], { retainerPaths: 0 })
  const newShare = diff.totals.addedCount / diff.after.nodeCount
  // Closing the first app frees its objects and the second snapshot's request allocates a few: about
  // 2% new measured; renumbered ids make about half the heap new.
  t.ok(newShare < 0.05, `# New is ${(newShare * 100).toFixed(2)}% of the nodes, below 5%`)
})
