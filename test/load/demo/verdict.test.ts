import t from 'tap'
import { readFile } from 'node:fs/promises'
import type { LeakCandidate, LeakReport } from '../../../analysis/index.js'
import { formatDuration, pluginVerdict } from '../../../load/demo/plugin-verdict.js'
import type { DemoResult } from '../../../load/demo/report.js'
import { aboveNoise, perRequestOf, verdictLine } from '../../../load/demo/verdict.js'

const recorded = async (): Promise<DemoResult> => JSON.parse(await readFile(new URL('../../fixtures/demo-result.json', import.meta.url), 'utf8'))

function candidate (className: string, countPerInterval: number[]): LeakCandidate {
  return { ...({} as LeakCandidate), className, countPerInterval, collection: { kind: 'Array', label: 'Store.items → Array' } as LeakCandidate['collection'] }
}

t.test('above the noise: at least one object per 100 requests of the phase\'s route in every interval', async (t) => {
  const report = {
    requestsPerInterval: [{ 'POST /posts': 800, 'GET /stats': 10 }, { 'POST /posts': 1400 }],
    candidates: [candidate('Kept', [8, 14]), candidate('InFlight', [14, 13]), candidate('Once', [20, 0])]
  } as unknown as LeakReport
  t.same(aboveNoise(report, 'POST /posts').map((c) => c.className), ['Kept'])
  const idle: LeakReport = { ...report, requestsPerInterval: [{ 'POST /posts': 100 }, { 'GET /stats': 9 }] as Array<Record<string, number>>, candidates: [candidate('Gone', [3, 0])] }
  t.same(aboveNoise(idle, 'POST /posts'), [], 'an interval without the route still needs a new object')
  t.same(aboveNoise({ ...report, requestsPerInterval: undefined }, 'POST /posts').length, 3, 'without request counts every candidate counts')
})

t.test('the verdict line names the culprit per request and what the fixed phase kept', async (t) => {
  const { fixed, leaking, culprit, fixedLeaks } = await recorded()
  t.equal(perRequestOf(culprit!, 'POST /leaking-posts'), 1)
  t.equal(perRequestOf(culprit!, 'POST /nowhere'), null)
  t.equal(verdictLine(culprit, leaking, fixed, fixedLeaks),
    'Verdict: POST /leaking-posts leaks 1.00 NativeConnection per request (+400 still alive, heap 74.1 MB per 1,000 requests), held by Array Mongoose.connections → Array; POST /posts also keeps Timeout.')
  t.equal(verdictLine(null, leaking, fixed, []),
    'Verdict: no leak candidate above the noise for POST /leaking-posts; POST /posts leaves no leak candidate above the noise (heap 2.4 MB per 1,000 requests).')
  t.match(verdictLine({ ...culprit!, perRoute: [] }, leaking, fixed, []), /leaks \? NativeConnection per request/)
})

t.test('the plugin\'s verdict with its time to the limit', async (t) => {
  const { leaking } = await recorded()
  t.equal(pluginVerdict({ ...leaking.last, verdict: null }), 'not read')
  t.equal(pluginVerdict({ ...leaking.last, verdict: 'growing-heap', verdictReason: 'rises', timeToLimitSeconds: 600, timeToLimit: 'heap' }), 'growing-heap, 10 min to the heap limit at this rate (rises)')
  t.same([formatDuration(59), formatDuration(3600), formatDuration(86_400 * 2.5)], ['1 min', '1.0 h', '2.5 days'])
})
