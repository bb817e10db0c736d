// The leak gate on the leak corpus (test/helpers/leak-gate-cases.ts), each case once, in one child
// process without coverage: it fails on every leak naming its class, and passes on the busy route
// and on what fooled other detectors (console.log, promises, a full bounded cache).
// bench/leak-gate.ts runs the same cases 20 times for their flakiness and time.
import t from 'tap'
import { GATE_CASES, gateWasRight, runGateCases } from '../helpers/leak-gate-cases.js'

t.setTimeout(900_000)

t.test('the gate fails on each leak of the corpus and passes on the controls', async (t) => {
  const outcomes = await runGateCases(GATE_CASES)
  t.equal(outcomes.length, GATE_CASES.length, 'one outcome per case')
  for (const gateCase of GATE_CASES) {
    const outcome = outcomes.find((o) => o.case === gateCase.name)
    const seen = outcome === undefined ? 'no outcome' : `${outcome.leaks.map((l) => `${l.className} ${l.objectsPerCall}/call`).join(', ') || 'passed'}; top ${outcome.top.join(' | ')}; ${outcome.durationMs} ms`
    t.ok(outcome !== undefined && gateWasRight(gateCase, outcome),
      `${gateCase.name}: ${gateCase.leaks === null ? 'passes' : `fails naming ${gateCase.leaks}`} (${seen})`)
  }
})
