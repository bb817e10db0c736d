import type * as Inspector from 'node:inspector'
import { createRequire } from 'node:module'

// Not named `require`: this file is also built to CommonJS, where that name is taken.
const requireBuiltin = createRequire(import.meta.url)

// One session for the whole process, shared by every plugin instance and every user inside the
// plugin (the line-end cache before snapshots, the sampling heap profiler), never disconnected:
// disconnecting a session disables its HeapProfiler agent, which clears V8's heap object id map,
// and every later snapshot then numbers the objects afresh (measured through the plugin: 57% of the
// nodes "new" between two snapshots taken back to back, 1% with the session kept). For the same
// reason nothing here ever posts `HeapProfiler.disable`. A connected session with no domain
// enabled keeps nothing alive (the process still exits on its own) and costs nothing measurable
// per request (see the closing note of issue 10).
let session: Inspector.Session | null = null

/** Whether this Node has an inspector (`node:inspector` throws on import in a build without it). */
export function inspectorAvailable (): boolean {
  return process.features.inspector
}

/**
 * Posts one command on the process's session and returns its result. An in-process session
 * answers synchronously (its callback runs before `post` returns), which keeps the callers'
 * state checks and the commands they decide on in one turn, with no interleaving.
 */
export function postInspector<T = Record<string, unknown>> (method: string, params: object = {}): T {
  session ??= connectedSession()
  let answered = false
  let failure: Error | null = null
  let result: unknown
  session.post(method, params, (error: Error | null, value?: unknown) => {
    answered = true
    failure = error
    result = value
  })
  /* c8 ignore next -- defensive: an in-process session has always answered synchronously */
  if (!answered) throw new Error(`the inspector did not answer ${method} synchronously`)
  if (failure !== null) throw failure
  return result as T
}

function connectedSession (): Inspector.Session {
  const { Session } = requireBuiltin('node:inspector') as typeof Inspector
  const created = new Session()
  created.connect()
  return created
}
