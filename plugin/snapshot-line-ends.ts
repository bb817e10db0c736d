import { inspectorAvailable, postInspector } from './inspector-session.js'

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
  if (!inspectorAvailable()) return false
  try {
    // on the process's one session (inspector-session.ts): another would reset the object ids
    postInspector('Debugger.enable')
    postInspector('Debugger.disable')
    return true
  } catch {
    return false // defensive, never seen: a failure here must not cost the snapshot
  }
  /* c8 ignore stop */
}
