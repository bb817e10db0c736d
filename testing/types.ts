import type { LeakCandidate, LeakReport } from '../analysis/find-leaks.js'

/** What one call of the code under test does, awaited before the next call. */
export type LeakGateTarget =
  /** Any function; a returned promise is awaited. */
  | { readonly call: () => unknown }
  /** A request through Fastify's `inject` (no socket): `app.inject(request)`. */
  | { readonly app: { inject: (request: never) => PromiseLike<unknown> }, readonly request: object | string }
  /** A real HTTP request with `fetch`, to a server listening in this process. */
  | { readonly url: string | URL, readonly init?: RequestInit }

export interface LeakGateOptions {
  /**
   * Calls between two snapshots. Noise (a timer re-armed, a feedback vector, a cache slot) is a
   * handful of objects per interval whatever the calls, so more calls make it a smaller share of
   * each call.
   * @defaultValue 200
   */
  readonly calls?: number
  /**
   * Calls made before the first snapshot, so that what is created once (a stream on the first
   * `console.log`, a compiled schema, a pool's connections, a bounded cache filling up) is there
   * in all three snapshots and never looks like growth.
   * @defaultValue `calls`
   */
  readonly warmUp?: number
  /**
   * The gate fails when a candidate keeps more than this many objects per call, in every interval.
   * A leak of one object on every tenth call is 0.1.
   * @defaultValue 0.05
   */
  readonly threshold?: number
  /**
   * Where the three snapshots are written. By default a fresh temporary directory, removed when
   * the gate passes and kept (its path in the error) when it fails.
   */
  readonly dir?: string
  /** Named in the report: by default the route (`POST /posts`), the URL's path or the function's name. */
  readonly label?: string
}

/** A leak candidate with its growth per call of the code under test. */
export interface GateFinding {
  readonly className: string
  readonly objectClass: string
  /** The collection that holds them (`Map`, `listeners`, `timers`...) and its label. */
  readonly heldBy: string
  /** New objects kept per call, in the interval that kept fewest. */
  readonly objectsPerCall: number
  readonly countPerInterval: readonly number[]
  readonly retainedBytes: number
  readonly pathShape: string
  readonly candidate: LeakCandidate
}

export interface LeakGateResult {
  readonly label: string
  readonly calls: number
  readonly warmUp: number
  readonly threshold: number
  /** Candidates above the threshold: the gate fails when there is one. */
  readonly leaks: readonly GateFinding[]
  /** Every candidate find-leaks named, above the threshold or not, most objects per call first. */
  readonly findings: readonly GateFinding[]
  readonly report: LeakReport
  /** The snapshot files, present while `dir` is kept. */
  readonly files: readonly string[]
  readonly durationMs: number
}
