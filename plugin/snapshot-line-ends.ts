import type * as Inspector from 'node:inspector'
import { createRequire } from 'node:module'

// Not named `require`: this file is also built to CommonJS, where that name is taken.
const requireBuiltin = createRequire(import.meta.url)

// One session for the whole process, shared by every plugin instance and never disconnected:
// disconnecting a session disables its HeapProfiler agent, which clears V8's heap object id map,
// and every later snapshot then numbers the objects afresh (measured through the plugin: 57% of the
// nodes "new" between two snapshots taken back to back, 1% with the session kept). A connected
// session with no domain enabled keeps nothing alive (the process still exits on its own) and
// costs nothing measurable per request (see the closing note of issue 10).
let session: Inspector.Session | null = null

/**
 * A heap snapshot records the source line of every function. Node 20's V8 (11.3) reads it from the
 * script's table of line ends, and where that table was never computed it may not build it during
 * the snapshot (no allocation allowed): it scans the script from its start for every function
 * instead (fixed in later V8: https://v8.dev/blog/speeding-up-v8-heap-snapshots). With one big
 * script loaded (the TypeScript compiler, a bundled app) that dominates everything: measured here,
 * a 20 MB heap with `typescript` required took 66 s, 2.1 s after this. Enabling the inspector's
 * Debugger domain computes and caches the table of every script compiled so far; it is done
 * before each snapshot because scripts keep being compiled. Returns false where it is not done:
 * the snapshot is then only slower.
 *
 * Not done when `enabled` is false (`snapshot.cacheLineEnds`), nor while V8 collects code coverage
 * for NODE_V8_COVERAGE (c8, node --test) or for tap (which marks the process with
 * _TAPJS_PROCESSINFO_COVERAGE_): disabling the debugger again also discards V8's block coverage
 * counters (measured: a function's branches are then reported as one block), which would falsify
 * the coverage of the whole process.
 */
export function cacheScriptLineEnds (enabled: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!enabled || env.NODE_V8_COVERAGE !== undefined || env._TAPJS_PROCESSINFO_COVERAGE_ === '1') return false
  /* c8 ignore start -- runs only without coverage: tested in child processes by heap-snapshot-measure.test.ts and stable-object-ids.test.ts */
  if (!process.features.inspector) return false // node:inspector throws on import in such a build
  try {
    session ??= connectedSession()
    session.post('Debugger.enable')
    session.post('Debugger.disable')
    return true
  } catch {
    return false // defensive, never seen: a failure here must not cost the snapshot
  }
  /* c8 ignore stop */
}

/* c8 ignore start -- see above */
function connectedSession (): Inspector.Session {
  const { Session } = requireBuiltin('node:inspector') as typeof Inspector
  const created = new Session()
  created.connect()
  return created
}
/* c8 ignore stop */
