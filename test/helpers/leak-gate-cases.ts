// The leak gate's cases, shared by test/testing/leak-gate-corpus.test.ts (each once) and
// bench/leak-gate.ts (each 20 times): every leak of the corpus over real HTTP, one through
// inject, and the code that must pass (the corpus app's busy route, and what fooled other
// detectors: console.log, promises, a full bounded cache), all run by
// test/fixtures/leak-gate-child.ts in one child process without coverage.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { uncoveredChildEnv } from './child-env.js'
import { KINDS } from './leak-corpus.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface GateCase {
  /** A route (`POST /subscribe`, `inject POST /log`) or a control of the child (`console.log`). */
  readonly name: string
  /** The class the gate must name, or null where it must pass. */
  readonly leaks: string | null
}

export const GATE_CASES: readonly GateCase[] = [
  ...KINDS.map((kind) => ({ name: `POST ${kind.path}`, leaks: kind.className })),
  { name: 'inject POST /log', leaks: 'RequestLogRecord' },
  { name: 'GET /busy', leaks: null },
  { name: 'inject GET /busy', leaks: null },
  { name: 'console.log', leaks: null },
  { name: 'promises', leaks: null },
  { name: 'lru-cache', leaks: null }
]

export interface GateOutcome {
  readonly case: string
  readonly leaks: ReadonlyArray<{ className: string, objectClass: string, objectsPerCall: number, heldBy: string }>
  readonly top: readonly string[]
  readonly durationMs: number
}

/** True when the gate did what the case expects: failed naming its class, or passed. */
export function gateWasRight (gateCase: GateCase, outcome: GateOutcome): boolean {
  if (gateCase.leaks === null) return outcome.leaks.length === 0
  return outcome.leaks.some((leak) => leak.className === gateCase.leaks || leak.objectClass === gateCase.leaks)
}

/** Runs the cases one after the other in one child process; their outcomes in order. */
export async function runGateCases (cases: readonly GateCase[]): Promise<GateOutcome[]> {
  const dir = mkdtempSync(join(tmpdir(), 'memdiag-gate-corpus-'))
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/leak-gate-child.ts', ...cases.map((c) => c.name)], {
      cwd: ROOT,
      env: { ...uncoveredChildEnv(), TOKEN: 'leak-gate-token-0123456789abcdef', SNAPSHOT_DIR: dir },
      maxBuffer: 64 * 1024 * 1024
    })
    return stdout.split('\n').filter((line) => line.startsWith('{"case"')).map((line) => JSON.parse(line) as GateOutcome)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
