import t from 'tap'
import { renderMemoryChart } from '../../../load/demo/chart.js'

const MB = 1024 * 1024

t.test('the chart draws the verdict band and marks each snapshot with what it cost', async (t) => {
  const samples = Array.from({ length: 120 }, (_, i) => ({
    t: i,
    heapUsed: (30 + (i > 60 ? (i - 60) * 3 : 0)) * MB,
    rss: 200 * MB,
    verdict: i < 30 ? 'insufficient-data' : i < 80 ? 'steady' : 'growing-heap'
  }))
  const svg = renderMemoryChart(samples, [{ name: 'fixed', start: 0, end: 60 }, { name: 'leaking', start: 60, end: 120 }], 'demo', [
    { label: 'B', t: 60, blockedMs: 9900, rssLeftBytes: 83 * MB },
    { label: 'C', t: 119, blockedMs: null, rssLeftBytes: null }
  ])
  t.match(svg, /^<svg /)
  t.match(svg, /<title>growing-heap 79–119 s<\/title>/, 'each run of the verdict is a band with its span')
  t.match(svg, /<title>steady 29–79 s<\/title>/)
  t.match(svg, />snapshot B</)
  t.match(svg, />blocked 9\.9 s, RSS \+83 MB</, 'the snapshot\'s event-loop block and the RSS it left')
  t.match(svg, />snapshot C</)
  t.notMatch(svg, /NaN|undefined/)
  t.equal((svg.match(/stroke-dasharray="4 3" stroke-width="1.5"/g) ?? []).length, 2, 'one dashed line per snapshot')
})
