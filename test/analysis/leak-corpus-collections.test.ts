import t from 'tap'
import { checkLeakKind, KINDS, describe, NOISE_PER_INTERVAL, runLeakCorpusApp } from '../helpers/leak-corpus.js'

// The leaks held directly in collections, and a run without a leak. See test/helpers/leak-corpus.ts.
for (const kind of KINDS.filter((k) => ['/render', '/log'].includes(k.path))) {
  t.test(`${kind.name} (${kind.path}): the first candidate, its collection, its objects per request`, (t) => checkLeakKind(t, kind))
}

t.test('without a leak (only the busy route): no candidate above the noise', async (t) => {
  const report = await runLeakCorpusApp(t, null)
  t.comment(describe(report))
  const aboveNoise = report.candidates.filter((c) => c.countPerInterval.every((n) => n > NOISE_PER_INTERVAL))
  t.same(aboveNoise.map((c) => `${c.className} ${c.countPerInterval.join('/')}`), [],
    `no candidate with more than ${NOISE_PER_INTERVAL} objects in every interval`)
})
