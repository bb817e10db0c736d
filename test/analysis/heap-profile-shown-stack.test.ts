import t from 'tap'
import { findGrowingSites, formatGrowingSites } from '../../analysis/index.js'
import { writeProfiles } from './heap-profile-fixtures.js'
import type { FixtureProfile } from './heap-profile-fixtures.js'

const TICKS = 'processTicks@1@node:internal/process/task_queues'
const DRIVER = 'file:///srv/node_modules/mongodb/lib/mongo_client.js'

// V8's sampling profiler records one frame per physical frame: a helper the JIT did not inline
// (Node's `_addListener` on Node 26) is one site for every caller, the app's call under the
// route and the driver's own continuations alike.
t.test('a shared helper as the site: its stack is the one under its route, with the app\'s call, not its biggest', async (t) => {
  const series: FixtureProfile[] = [0, 1, 2].map((i) => ({
    handlers: { 'POST /leaking-posts': 'handler@10' },
    requests: { 'POST /leaking-posts': 1000 * i },
    takenAt: `2026-01-01T00:1${i}:00.000Z`,
    stacks: [
      { frames: [TICKS, 'handler@10', 'postModel@20', `connect@190@${DRIVER}`, 'addListener@615@node:events', '_addListener@545@node:events'], bytes: 10_000 * i + 1 },
      // a socket's listener in the driver's continuation: no app frame, more bytes in the last profile
      { frames: [TICKS, `makeConnection@300@${DRIVER}`, 'Readable.on@1200@node:internal/streams/readable', '_addListener@545@node:events'], bytes: 11_000 * i + 1 }
    ]
  }))
  const report = await findGrowingSites(writeProfiles(t.testdir(), series))
  const [site] = report.sites
  t.match(site, { functionName: '_addListener', growthBytes: 42_000, route: { route: 'POST /leaking-posts', requests: 2000, bytesPerRequest: 10 } })
  t.same(site?.stack.map((f) => f.functionName), ['_addListener', 'addListener', 'connect', 'postModel', 'handler', 'processTicks'], 'the route\'s handler is on the stack shown')
  t.match(formatGrowingSites(report), /1\. _addListener \(node:events:545:5\)\n.*\n {3}route: POST \/leaking-posts \(its handler is on the stack;[^\n]*\n {3}stack:\n {5}at _addListener[^\n]*\n {5}at addListener[^\n]*\n {5}at connect[^\n]*\n {5}at postModel /)
})

t.test('without a route, the stack shown is the one that grew most, not one filled before the first profile', async (t) => {
  const series: FixtureProfile[] = [0, 1, 2].map((i) => ({
    metadata: false,
    stacks: [
      { frames: ['main@2', 'fillCache@40', 'store@50'], bytes: 50_000 + i },
      { frames: ['main@2', 'onTick@60', 'store@50'], bytes: 10_000 * i + 1 }
    ]
  }))
  const [site] = (await findGrowingSites(writeProfiles(t.testdir(), series))).sites
  t.match(site, { functionName: 'store', growthBytes: 20_002, route: null })
  t.same(site?.stack.map((f) => f.functionName), ['store', 'onTick', 'main'])
})
