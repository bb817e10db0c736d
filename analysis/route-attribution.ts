import type { RequestCounts } from './request-counts.js'

/** How a route's figure was found: what a reader may conclude from it. */
export type RouteShareBasis =
  /** The only route with requests: a plain ratio. */
  | 'only-route'
  /** This route's requests alone explain the objects in every interval clearly better than any other route's: a ratio; the others get 0. */
  | 'alone'
  /** A non-negative least-squares fit over the intervals. */
  | 'fit'
  /** The intervals cannot tell this route from others (their requests were in proportion in every interval): the ratio it would have alone. */
  | 'as-if-alone'

export interface RouteShare {
  /** "POST /leaking-posts" */
  readonly route: string
  /** New objects still alive per completed request of the route. */
  readonly objectsPerRequest: number
  /**
   * True when the intervals cannot tell this route's share from another's (their requests
   * rose and fell together): the figure is then what it would be if this route alone leaked.
   */
  readonly ambiguous: boolean
  /** How the figure was found. */
  readonly basis: RouteShareBasis
}

export interface RouteAttribution {
  /** Most objects per request first. */
  readonly shares: RouteShare[]
  /**
   * What the counts cannot tell and how to make them tell it (a snapshot more, traffic that
   * varies per route), or what the figures rest on; undefined when they are certain.
   */
  readonly note?: string
}

/** Completed responses per route in each interval, or undefined unless every snapshot has counts from one process. */
export function requestsPerInterval (marks: ReadonlyArray<RequestCounts | undefined>): Array<Record<string, number>> | undefined {
  if (marks.some((m) => m === undefined)) return undefined
  const counts = marks as readonly RequestCounts[]
  if (new Set(counts.map((m) => m.pid)).size > 1) return undefined
  const intervals: Array<Record<string, number>> = []
  for (let i = 1; i < counts.length; i++) {
    const before = (counts[i - 1] as RequestCounts).counts
    const after = (counts[i] as RequestCounts).counts
    const interval: Record<string, number> = {}
    for (const [route, count] of Object.entries(after)) interval[route] = count - (before[route] ?? 0)
    intervals.push(interval)
  }
  return intervals
}

/** The shares of `attributeRoutes`, without its note. */
export function attributeToRoutes (countPerInterval: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>): RouteShare[] {
  return attributeRoutes(countPerInterval, requests).shares
}

/**
 * How many of a candidate's objects each route leaves behind per request, and what the counts
 * cannot tell. Routes whose requests were in proportion in every interval are one unknown (the
 * counts cannot separate them: each gets the ratio it would have alone, marked ambiguous). Then
 * the simplest explanation: one route whose requests alone explain the objects in every interval
 * clearly better than any other gets them. Otherwise a non-negative least-squares fit, unique
 * when there are no more unknowns than intervals; with fewer intervals the note says the fit is
 * one of several and how to make it unique.
 */
export function attributeRoutes (countPerInterval: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>): RouteAttribution {
  const routes = [...new Set(requests.flatMap((interval) => Object.keys(interval)))]
    .filter((route) => requests.some((interval) => (interval[route] ?? 0) > 0))
    .sort()
  if (routes.length === 0) return { shares: [] }
  const column = (route: string): number[] => requests.map((interval) => Math.max(0, interval[route] ?? 0))
  const y = [...countPerInterval]
  if (routes.length === 1) {
    const route = routes[0] as string
    return { shares: [{ route, objectsPerRequest: ratio(y, column(route)), ambiguous: false, basis: 'only-route' }] }
  }
  const groups = proportionalGroups(routes.map((route) => ({ route, requests: column(route) })))
  const asIfAlone = (group: Group, share: number): RouteShare[] => group.members.map((m) => ({
    route: m.route,
    // The group's objects as if this member alone had made them.
    objectsPerRequest: share * sum(group.requests) / sum(m.requests),
    ambiguous: group.members.length > 1 && share > 0,
    basis: group.members.length > 1 && share > 0 ? 'as-if-alone' : 'fit'
  }))
  const alone = explainingGroup(y, groups)
  if (alone !== undefined) {
    const share = ratio(y, alone.requests)
    const shares = groups.flatMap((g) => g === alone
      ? asIfAlone(g, share).map((s) => g.members.length > 1 ? s : { ...s, basis: 'alone' as const })
      : g.members.map((m) => ({ route: m.route, objectsPerRequest: 0, ambiguous: false, basis: 'alone' as const })))
    return { shares: sorted(shares), ...noteOf({ y, groups, explained: alone }) }
  }
  const fit = nonNegativeLeastSquares(y, groups.map((g) => g.requests))
  const shares = groups.flatMap((g, k) => asIfAlone(g, fit[k] as number))
  return { shares: sorted(shares), ...noteOf({ y, groups, fit }) }
}

interface Member {
  readonly route: string
  readonly requests: number[]
}

interface Group {
  readonly members: Member[]
  /** The members' requests summed, per interval. */
  readonly requests: number[]
}

// Two routes' requests are in proportion when the angle between them, as vectors over the
// intervals, has a sine below this (600/200 and 590/205 are; 600/200 and 500/250 are not).
const PROPORTIONAL_SINE = 0.03

/** The routes grouped by the direction of their requests over the intervals. */
function proportionalGroups (members: readonly Member[]): Group[] {
  const groups: Array<{ members: Member[], requests: number[] }> = []
  for (const member of members) {
    const group = groups.find((g) => sine(g.requests, member.requests) <= PROPORTIONAL_SINE)
    if (group === undefined) groups.push({ members: [member], requests: [...member.requests] })
    else {
      group.members.push(member)
      member.requests.forEach((n, i) => { group.requests[i] = (group.requests[i] as number) + n })
    }
  }
  return groups
}

// A route explains the objects alone when its requests times one ratio leave a residual below this
// share of the objects themselves (root of the sums of squares over the intervals), and it does so
// clearly better than the next route: with a residual below this share of the next one's.
const ALONE_TOLERANCE = 0.1
const CLEARLY_BETTER = 0.5

/**
 * The simplest explanation first: with as many intervals as routes a least-squares fit is exact
 * and puts the noise of each interval (a timer firing, one object more or less) on whichever route
 * varied (measured: 199 and 200 objects for 200 requests each came out as 0.56 per request of the
 * leaking route and 0.05 per request of a busy one). Two routes that both explain the objects
 * within the tolerance (300 then 600 objects: a route of 300 then 600 requests exactly, another of
 * 200 then 500) are told apart by how well.
 */
function explainingGroup (y: readonly number[], groups: readonly Group[]): Group | undefined {
  const ranked = groups
    .map((group) => ({ group, residual: relativeResidual(y, group.requests.map((n) => n * ratio(y, group.requests))) }))
    .sort((a, b) => a.residual - b.residual)
  const [best, next] = ranked
  if (best === undefined || best.residual > ALONE_TOLERANCE) return undefined
  if (next !== undefined && best.residual > CLEARLY_BETTER * next.residual) return undefined
  // Beyond noise, a mix of routes that fits clearly better is the better explanation (900 then 800
  // objects: 1 per request of two routes exactly, rather than 0.85 per request of a third within 6%).
  if (best.residual <= NOISE) return best.group
  const columns = groups.map((g) => g.requests)
  const mix = relativeResidual(y, predicted(columns, nonNegativeLeastSquares(y, columns)))
  return mix <= CLEARLY_BETTER * best.residual ? undefined : best.group
}

// A residual below this share of the objects is noise (a timer firing, one object more or less).
const NOISE = 0.02

// A fit leaving more than this share of the objects unexplained says the objects do not follow the requests.
const UNEXPLAINED = 0.5

function noteOf ({ y, groups, explained, fit }: { y: readonly number[], groups: readonly Group[], explained?: Group, fit?: readonly number[] }): { note?: string } {
  const notes: string[] = []
  const intervals = y.length
  const together = (explained !== undefined ? [explained] : groups.filter((g, k) => (fit?.[k] ?? 0) > 0)).filter((g) => g.members.length > 1)
  for (const group of together) {
    notes.push(`${list(group.members.map((m) => m.route))} had their requests in the same proportion in every interval: the counts cannot tell them apart, ` +
      'and each figure assumes that route alone. To make it certain, take another snapshot after traffic whose mix of these routes differs ' +
      '(more of one than of the other)')
  }
  if (explained !== undefined) {
    const others = groups.filter((g) => g !== explained)
    const rest = nonNegativeLeastSquares(y, others.map((g) => g.requests))
    const alternative = relativeResidual(y, predicted(others.map((g) => g.requests), rest)) <= ALONE_TOLERANCE
    if (alternative && groups.length > intervals) {
      const used = others.filter((_, k) => (rest[k] as number) > 0).flatMap((g) => g.members.map((m) => m.route))
      notes.push(`${list(explained.members.map((m) => m.route))} alone explains the objects of every interval, so it gets them; with ${intervals} ${plural(intervals, 'interval')} ` +
        `and ${groups.length} routes whose requests varied differently, a mix of ${list(used)} fits them too. A snapshot more, after traffic whose mix differs again, makes it certain`)
    }
    return notes.length === 0 ? {} : { note: notes.join('. ') + '.' }
  }
  const shares = fit ?? []
  if (relativeResidual(y, predicted(groups.map((g) => g.requests), shares)) > UNEXPLAINED) {
    notes.push('the objects do not follow the requests of any route (made on a timer, at start-up, or by traffic without request counts?): ' +
      'the figures are the closest non-negative fit')
  } else if (groups.length > intervals) {
    notes.push(`with ${intervals} ${plural(intervals, 'interval')} and ${groups.length} routes whose requests varied differently, this fit is one of several that explain the objects: ` +
      `${groups.length - intervals} more ${plural(groups.length - intervals, 'snapshot')}, each after traffic whose mix differs, make it unique`)
  }
  return notes.length === 0 ? {} : { note: notes.join('. ') + '.' }
}

/**
 * Lawson and Hanson's active-set algorithm: least squares with every coefficient ≥ 0. Unlike a
 * solve of the normal equations, it also answers with more columns than rows (a sparse solution).
 */
function nonNegativeLeastSquares (y: readonly number[], columns: ReadonlyArray<readonly number[]>): number[] {
  const n = columns.length
  const x = columns.map(() => 0)
  const passive = columns.map(() => false)
  const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * (b[i] as number), 0)
  const scale = Math.max(1, ...y.map(Math.abs)) * Math.max(1, ...columns.flatMap((c) => c.map(Math.abs)))
  const tolerance = 1e-10 * scale * y.length
  for (let iteration = 0; iteration < 3 * n + 10; iteration++) {
    const fitted = predicted(columns, x)
    const residual = y.map((v, i) => v - (fitted[i] as number))
    const gradient = columns.map((c) => dot(c, residual))
    let j = -1
    gradient.forEach((g, k) => { if (!passive[k] && g > tolerance && (j === -1 || g > (gradient[j] as number))) j = k })
    if (j === -1) break
    passive[j] = true
    for (;;) {
      const s = passiveSolution(y, columns, passive)
      if (s === undefined) {
        // Dependent columns: the one just added says nothing new.
        passive[j] = false
        return x
      }
      if (s.every((v, k) => !passive[k] || v > 0)) {
        s.forEach((v, k) => { x[k] = v })
        break
      }
      let alpha = 1
      s.forEach((v, k) => { if (passive[k] && v <= 0) alpha = Math.min(alpha, (x[k] as number) / ((x[k] as number) - v)) })
      x.forEach((v, k) => {
        x[k] = v + alpha * ((s[k] as number) - v)
        if (passive[k] && (x[k] as number) <= 1e-12) {
          passive[k] = false
          x[k] = 0
        }
      })
    }
  }
  return x
}

/** Least squares on the passive columns, 0 elsewhere; undefined when they are dependent. */
function passiveSolution (y: readonly number[], columns: ReadonlyArray<readonly number[]>, passive: readonly boolean[]): number[] | undefined {
  const used = columns.flatMap((_, k) => passive[k] === true ? [k] : [])
  if (used.length > y.length) return undefined
  const solved = solveNormalEquations(y, (i, c) => (columns[used[c] as number] as number[])[i] as number, used.length)
  if (solved === undefined) return undefined
  const s = columns.map(() => 0)
  used.forEach((k, c) => { s[k] = solved[c] as number })
  return s
}

function solveNormalEquations (y: readonly number[], x: (i: number, c: number) => number, n: number): number[] | undefined {
  if (n === 0) return []
  // A = XᵀX | Xᵀy, then Gaussian elimination with partial pivoting.
  const a = Array.from({ length: n }, (_, r) => {
    const row = Array.from({ length: n + 1 }, () => 0)
    for (let i = 0; i < y.length; i++) {
      for (let c = 0; c < n; c++) row[c] = (row[c] as number) + x(i, r) * x(i, c)
      row[n] = (row[n] as number) + x(i, r) * (y[i] as number)
    }
    return row
  })
  const scale = Math.max(...a.map((row, r) => Math.abs(row[r] as number)))
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++) if (Math.abs((a[r] as number[])[col] as number) > Math.abs((a[pivot] as number[])[col] as number)) pivot = r
    if (Math.abs((a[pivot] as number[])[col] as number) <= scale * 1e-9) return undefined
    ;[a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]]
    const p = a[col] as number[]
    for (let r = 0; r < n; r++) {
      if (r === col) continue
      const row = a[r] as number[]
      const factor = (row[col] as number) / (p[col] as number)
      for (let c = col; c <= n; c++) row[c] = (row[c] as number) - factor * (p[c] as number)
    }
  }
  return a.map((row, r) => (row[n] as number) / (row[r] as number))
}

function predicted (columns: ReadonlyArray<readonly number[]>, x: readonly number[]): number[] {
  const length = columns[0]?.length ?? 0
  return Array.from({ length }, (_, i) => columns.reduce((s, c, k) => s + (c[i] as number) * (x[k] ?? 0), 0))
}

/** Root of the sum of squares of y − fitted, over that of y; 0 for no objects. */
function relativeResidual (y: readonly number[], fitted: readonly number[]): number {
  const size = Math.sqrt(y.reduce((s, v) => s + v * v, 0))
  if (size === 0) return 0
  if (fitted.length === 0) return 1
  return Math.sqrt(y.reduce((s, v, i) => s + (v - (fitted[i] as number)) ** 2, 0)) / size
}

/** The sine of the angle between two non-negative vectors: 0 when they are in proportion. */
function sine (a: readonly number[], b: readonly number[]): number {
  const ab = a.reduce((s, v, i) => s + v * (b[i] as number), 0)
  const aa = a.reduce((s, v) => s + v * v, 0)
  const bb = b.reduce((s, v) => s + v * v, 0)
  if (aa === 0 || bb === 0) return 1
  return Math.sqrt(Math.max(0, 1 - (ab * ab) / (aa * bb)))
}

function ratio (y: readonly number[], requests: readonly number[]): number {
  return sum(y) / sum(requests)
}

function sum (values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

function sorted (shares: RouteShare[]): RouteShare[] {
  return shares.sort((a, b) => b.objectsPerRequest - a.objectsPerRequest || a.route.localeCompare(b.route))
}

function list (routes: readonly string[]): string {
  return routes.length <= 1 ? routes.join('') : `${routes.slice(0, -1).join(', ')} and ${routes[routes.length - 1] as string}`
}

function plural (n: number, word: string): string {
  return n === 1 ? word : `${word}s`
}
