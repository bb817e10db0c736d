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
  /**
   * Every request makes them, whatever its route (an agent, a hook, a logger): every route has the
   * ratio to all requests; among alternatives the counts cannot tell apart, one share whose `route` is ANY_ROUTE.
   */
  | 'any-route'
  /** They follow the time, not the requests (a background job, a timer): `route` is NO_REQUEST, its figure 0. */
  | 'no-request'
  /** A fit of several routes in which this one may leak or not: the figure is the most it can be, no finding. */
  | 'possible'

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
  /** When fits as good as the best one all need this route but differ in its figure: `objectsPerRequest` is the least of them, this the most. */
  readonly upTo?: number
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

/** The `route` of the share that says every request makes the objects, whatever its route. */
export const ANY_ROUTE = 'any route'
/** The `route` of the share that says no request makes them. */
export const NO_REQUEST = 'no request'

/** The length of each interval in ms, from the marks' times, or undefined unless every snapshot has a mark. */
export function intervalDurations (marks: ReadonlyArray<RequestCounts | undefined>): number[] | undefined {
  if (marks.some((m) => m === undefined)) return undefined
  const times = (marks as readonly RequestCounts[]).map((m) => m.at)
  return times.slice(1).map((at, i) => at - (times[i] as number))
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
export function attributeToRoutes (countPerInterval: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>, durations?: readonly number[]): RouteShare[] {
  return attributeRoutes(countPerInterval, requests, durations).shares
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
export function attributeRoutes (countPerInterval: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>, durations?: readonly number[]): RouteAttribution {
  const routes = [...new Set(requests.flatMap((interval) => Object.keys(interval)))]
    .filter((route) => requests.some((interval) => (interval[route] ?? 0) > 0))
    .sort()
  if (routes.length === 0) return { shares: [] }
  const total = (route: string): number => sum(requests.map((interval) => Math.max(0, interval[route] ?? 0)))
  const rare = routes.filter((route) => total(route) < MIN_REQUESTS)
  if (rare.length > 0 && rare.length < routes.length) return withRareRoutes(countPerInterval, requests, durations, rare)
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
  const explanations = singleExplanations(groups, durations)
  const { best: alone, tied } = explainingAlone(y, explanations)
  if (alone?.kind === 'all') {
    const share = ratio(y, alone.column)
    return { shares: sorted(routes.map((route) => ({ route, objectsPerRequest: share, ambiguous: false, basis: 'any-route' as const }))) }
  }
  if (alone?.kind === 'time') return { shares: [{ route: NO_REQUEST, objectsPerRequest: 0, ambiguous: false, basis: 'no-request' }], note: noRequestNote(y, alone.column) }
  if (alone?.group !== undefined) {
    const chosen = alone.group
    const share = ratio(y, chosen.requests)
    const shares = groups.flatMap((g) => g === chosen
      ? asIfAlone(g, share).map((s) => g.members.length > 1 ? s : { ...s, basis: 'alone' as const })
      : g.members.map((m) => ({ route: m.route, objectsPerRequest: 0, ambiguous: false, basis: 'alone' as const })))
    return { shares: sorted(shares), ...noteOf({ y, groups, explained: chosen }) }
  }
  if (tied.length > 1) return alternatives(y, groups, tied)
  const fit = nonNegativeLeastSquares(y, groups.map((g) => g.requests))
  const range = supportedRange(y, groups.map((g) => g.requests))
  const shares = groups.flatMap((g, k) => {
    const [least, most] = range[k] as [number, number]
    // A figure that some fit as good as this one sets to 0 is no finding: the most it can be, marked so.
    if (least === 0 && most > 0) return g.members.map((m) => ({ route: m.route, objectsPerRequest: most * sum(g.requests) / sum(m.requests), ambiguous: true, basis: 'possible' as const }))
    // A figure every fit as good needs, though not the same in each: at least the least, up to the most.
    if (g.members.length === 1 && most > least * (1 + ALONE_TOLERANCE)) return [{ route: (g.members[0] as Member).route, objectsPerRequest: least, upTo: most, ambiguous: false, basis: 'fit' as const }]
    return asIfAlone(g, fit[k] as number)
  })
  return { shares: sorted(shares), ...noteOf({ y, groups, fit, possible: shares.filter((s) => s.basis === 'possible').map((s) => s.route) }) }
}

// A route with fewer requests than this over the intervals gets no figure of its own: one interval's
// one-off objects (a cache filled, a connection opened: tens of objects) would read as several per
// request of a route requested twice (33 per request of GET /stats, measured on the Mongoose corpus).
const MIN_REQUESTS = 20

/**
 * The figures of the routes with enough requests, then each rare route with the most its requests
 * could make of what those leave unexplained in the intervals it had requests in: no finding.
 */
function withRareRoutes (y: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>, durations: readonly number[] | undefined, rare: readonly string[]): RouteAttribution {
  const counted = requests.map((interval) => Object.fromEntries(Object.entries(interval).filter(([route]) => !rare.includes(route))))
  const { shares, note } = attributeRoutes(y, counted, durations)
  const explained = y.map((_, k) => shares.some((s) => s.basis === 'no-request' && !s.ambiguous)
    ? y[k] as number
    : sum(shares.filter((s) => !s.ambiguous).map((s) => s.objectsPerRequest * Math.max(0, (counted[k] as Record<string, number>)[s.route] ?? 0))))
  const rareShares = rare.map((route): RouteShare => {
    const most = Math.max(0, ...y.map((v, k) => {
      const n = Math.max(0, (requests[k] as Record<string, number>)[route] ?? 0)
      return n === 0 ? 0 : Math.max(0, v - (explained[k] as number)) / n
    }))
    return { route, objectsPerRequest: most, ambiguous: true, basis: 'possible' }
  })
  const rareNote = `${list(rare.map((route) => `${route} (${sum(requests.map((interval) => Math.max(0, interval[route] ?? 0)))} requests)`))} had too few requests to tell what ${rare.length === 1 ? 'it leaves' : 'they leave'}: ` +
    `${rare.length === 1 ? 'its figure is' : 'their figures are'} the most ${rare.length === 1 ? 'its' : 'their'} requests could make of what the others leave unexplained, no finding.`
  return { shares: sorted([...shares, ...rareShares]), note: note === undefined ? rareNote : `${note} ${rareNote}` }
}

/** A single cause the objects may follow: one route (or routes in proportion), every request, or the time. */
interface Explanation {
  readonly kind: 'group' | 'all' | 'time'
  readonly column: readonly number[]
  readonly group?: Group
  readonly label: string
}

/**
 * The routes' groups; all requests together when there are several groups (a leak of every request,
 * whatever its route, follows their sum); the intervals' lengths when the marks tell them (a leak
 * no request makes follows the time).
 */
function singleExplanations (groups: readonly Group[], durations: readonly number[] | undefined): Explanation[] {
  const explanations: Explanation[] = groups.map((group) => ({ kind: 'group', column: group.requests, group, label: list(group.members.map((m) => m.route)) }))
  if (groups.length > 1) {
    const all = (groups[0] as Group).requests.map((_, i) => sum(groups.map((g) => g.requests[i] as number)))
    explanations.push({ kind: 'all', column: all, label: 'every request, any route' })
  }
  if (durations !== undefined && durations.every((d) => d > 0)) explanations.push({ kind: 'time', column: durations, label: 'the time (no request)' })
  return explanations
}

/**
 * The simplest explanation first: with as many intervals as routes a least-squares fit is exact
 * and puts the noise of each interval (a timer firing, one object more or less) on whichever route
 * varied (measured: 199 and 200 objects for 200 requests each came out as 0.56 per request of the
 * leaking route and 0.05 per request of a busy one). Two explanations that both fit within the
 * tolerance (300 then 600 objects: a route of 300 then 600 requests exactly, another of 200 then
 * 500) are told apart by how well; those that fit and cannot be told apart are `tied`.
 */
function explainingAlone (y: readonly number[], explanations: readonly Explanation[]): { best?: Explanation, tied: Explanation[] } {
  const ranked = explanations
    .map((explanation) => ({ explanation, residual: relativeResidual(y, explanation.column.map((n) => n * ratio(y, explanation.column))) }))
    .sort((a, b) => a.residual - b.residual)
  const [best] = ranked
  if (best === undefined || best.residual > ALONE_TOLERANCE) return { tied: [] }
  // Beyond noise, a mix of routes that fits clearly better is the better explanation (900 then 800
  // objects: 1 per request of two routes exactly, rather than 0.85 per request of a third within 6%).
  if (best.residual > NOISE) {
    const columns = explanations.filter((e) => e.kind === 'group').map((e) => e.column)
    const mix = relativeResidual(y, predicted(columns, nonNegativeLeastSquares(y, columns)))
    if (mix <= CLEARLY_BETTER * best.residual) return { tied: [] }
  }
  // Within the noise every fit is as good as exact: only a residual clearly smaller beyond it tells one apart.
  const tied = ranked.filter((r) => r.residual <= ALONE_TOLERANCE && r.residual <= Math.max(NOISE, best.residual / CLEARLY_BETTER))
  return tied.length > 1 ? { tied: tied.map((r) => r.explanation) } : { best: best.explanation, tied: [] }
}

/** Explanations that each fit alone and that the counts cannot tell apart: each figure as if it alone made the objects. */
function alternatives (y: readonly number[], groups: readonly Group[], tied: readonly Explanation[]): RouteAttribution {
  const shares: RouteShare[] = []
  for (const e of tied) {
    const share = ratio(y, e.column)
    if (e.kind === 'all') shares.push({ route: ANY_ROUTE, objectsPerRequest: share, ambiguous: true, basis: 'any-route' })

    else if (e.kind === 'time') shares.push({ route: NO_REQUEST, objectsPerRequest: 0, ambiguous: true, basis: 'no-request' })
    else {
      const group = e.group as Group
      for (const m of group.members) shares.push({ route: m.route, objectsPerRequest: share * sum(group.requests) / sum(m.requests), ambiguous: true, basis: 'as-if-alone' })
    }
  }
  const named = new Set(shares.map((s) => s.route))
  for (const g of groups) for (const m of g.members) if (!named.has(m.route)) shares.push({ route: m.route, objectsPerRequest: 0, ambiguous: false, basis: 'fit' })
  return {
    shares: sorted(shares),
    note: `${list(tied.map((e) => e.label))} each explain the objects of every interval alone, and the counts cannot tell which: each figure assumes it alone. ` +
      'A snapshot more, after traffic whose mix differs (more of one than of the others), tells them apart.'
  }
}

function noRequestNote (y: readonly number[], durations: readonly number[]): string {
  const perMinute = sum(y) / (sum(durations) / 60_000)
  return `the objects follow the time, not the requests of any route: made by no request (a background job, a timer, a loop), about ${perMinute >= 10 ? Math.round(perMinute) : perMinute.toFixed(1)} a minute.`
}

// Above this many subsets of routes the range of each route's figure is not searched (see supportedRange).
const MAX_SUBSETS = 4096

/**
 * Per group, the least and the most objects per request it has among the non-negative fits that
 * explain the objects about as well as the best one (within the noise, or twice the best
 * residual): the basic solutions of every subset of at most as many groups as intervals. With
 * fewer intervals than routes many fits are exact; a route that one of them leaves out may leak
 * or not, and a figure that rests on a few requests absorbing one interval's noise (33 per request
 * of a route requested twice) is told as what it is.
 */
function supportedRange (y: readonly number[], columns: ReadonlyArray<readonly number[]>): Array<[number, number]> {
  const n = columns.length
  const best = nonNegativeLeastSquares(y, columns)
  const range: Array<[number, number]> = best.map((x) => x < 1e-9 ? [0, 0] : [x, x])
  const size = Math.min(n, y.length)
  let subsets = 0
  for (let k = 1; k <= size; k++) subsets += binomial(n, k)
  if (subsets > MAX_SUBSETS) return range
  const tolerance = Math.max(NOISE, 2 * relativeResidual(y, predicted(columns, best)))
  const passive = columns.map(() => false)
  const visit = (start: number, chosen: number): void => {
    if (chosen > 0) {
      const s = passiveSolution(y, columns, passive)
      if (s !== undefined && s.every((v) => v >= 0) && relativeResidual(y, predicted(columns, s)) <= tolerance) {
        s.forEach((v, k) => {
          // below a billionth of an object per request, a rounding error of the solve
          const x = v < 1e-9 ? 0 : v
          const r = range[k] as [number, number]
          r[0] = Math.min(r[0], x)
          r[1] = Math.max(r[1], x)
        })
      }
    }
    if (chosen === size) return
    for (let k = start; k < n; k++) {
      passive[k] = true
      visit(k + 1, chosen + 1)
      passive[k] = false
    }
  }
  visit(0, 0)
  return range
}

function binomial (n: number, k: number): number {
  let result = 1
  for (let i = 1; i <= k; i++) result = result * (n - k + i) / i
  return result
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

// A residual below this share of the objects is noise (a timer firing, one object more or less).
const NOISE = 0.02

// A fit leaving more than this share of the objects unexplained says the objects do not follow the requests.
const UNEXPLAINED = 0.5

function noteOf ({ y, groups, explained, fit, possible = [] }: { y: readonly number[], groups: readonly Group[], explained?: Group, fit?: readonly number[], possible?: readonly string[] }): { note?: string } {
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
  if (possible.length > 0) {
    notes.push(`${list(possible)} may leak or not: fits as good as this one leave ${possible.length === 1 ? 'it' : 'each'} out, so ${possible.length === 1 ? 'its figure is' : 'their figures are'} the most ${possible.length === 1 ? 'it' : 'each'} can be, not a finding`)
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
