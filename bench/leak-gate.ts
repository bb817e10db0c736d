// Runs every case of the leak gate (test/helpers/leak-gate-cases.ts: the corpus' leaks must fail,
// the controls must pass) N times, each run in a fresh child process, and prints per case how
// often the gate was right and its time per case (median, min–max).
// Run: nice -n 10 node --import tsx bench/leak-gate.ts [--runs 20]
import { parseArgs } from 'node:util'
import { GATE_CASES, gateWasRight, runGateCases } from '../test/helpers/leak-gate-cases.js'
import type { GateOutcome } from '../test/helpers/leak-gate-cases.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } })
const runs = Number(values.runs)
const outcomes = new Map<string, GateOutcome[]>(GATE_CASES.map((c) => [c.name, []]))
const started = Date.now()

// The table after every run, so that a run cut short still says what it saw.
for (let run = 1; run <= runs; run++) {
  for (const outcome of await runGateCases(GATE_CASES)) outcomes.get(outcome.case)?.push(outcome)
  console.log(`\nafter ${run} of ${runs} runs (${((Date.now() - started) / 1000).toFixed(0)} s), each run in a fresh child process (${process.version})`)
  printTable()
}

function printTable (): void {
  console.log('case                  expected               right  wrong  time per case: median (min–max)')
  for (const gateCase of GATE_CASES) printRow(gateCase)
}

function printRow (gateCase: (typeof GATE_CASES)[number]): void {
  const list = outcomes.get(gateCase.name) ?? []
  const right = list.filter((o) => gateWasRight(gateCase, o)).length
  const times = list.map((o) => o.durationMs / 1000).sort((a, b) => a - b)
  const median = times[Math.floor(times.length / 2)] ?? NaN
  const wrong = list.filter((o) => !gateWasRight(gateCase, o)).map((o) => o.leaks.map((l) => l.className).join(',') || 'passed')
  console.log(`${gateCase.name.padEnd(22)}${(gateCase.leaks === null ? 'pass' : `fail ${gateCase.leaks}`).padEnd(23)}` +
    `${String(right).padStart(5)}  ${String(list.length - right).padStart(5)}  ${median.toFixed(1)} s (${times[0]?.toFixed(1)}–${times.at(-1)?.toFixed(1)} s)` +
    `${wrong.length > 0 ? `  wrong: ${[...new Set(wrong)].join('; ')}` : ''}`)
}
