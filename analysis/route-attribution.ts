import type { RequestCounts } from './request-counts.js'

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

/**
 * How many of a candidate's objects each route leaves behind per request. One active route, or
 * one route whose requests alone explain the objects in every interval: a plain ratio, the others
 * 0. Otherwise a least-squares fit of the objects kept in each interval on the requests of each
 * route in it, without negative shares. When the intervals cannot separate the routes (fewer
 * intervals than routes, or routes whose requests move together) every route gets the ratio it
 * would have alone, marked ambiguous.
 */
export function attributeToRoutes (countPerInterval: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>): RouteShare[] {
  const routes = [...new Set(requests.flatMap((interval) => Object.keys(interval)))]
    .filter((route) => requests.some((interval) => (interval[route] ?? 0) > 0))
    .sort()
  if (routes.length === 0) return []
  const total = countPerInterval.reduce((a, b) => a + b, 0)
  const alone = (route: string): number => total / requests.reduce((sum, interval) => sum + (interval[route] ?? 0), 0)
  if (routes.length === 1) return [{ route: routes[0] as string, objectsPerRequest: alone(routes[0] as string), ambiguous: false }]
  // The simplest explanation first: with as many intervals as routes a least-squares fit is exact
  // and puts the noise of each interval (a timer firing, one object more or less) on whichever
  // route varied (measured: 199 and 200 objects for 200 requests each came out as 0.56 per
  // request of the leaking route and 0.05 per request of a busy one).
  const explaining = routes.filter((route) => explainsAlone(countPerInterval, requests, route, alone(route)))
  const fit = explaining.length === 1 ? undefined : nonNegativeFit(countPerInterval, requests, routes)
  const shares = explaining.length === 1
    ? routes.map((route) => ({ route, objectsPerRequest: route === explaining[0] ? alone(route) : 0, ambiguous: false }))
    : explaining.length > 1 || fit === undefined
      ? routes.map((route) => ({ route, objectsPerRequest: alone(route), ambiguous: true }))
      : routes.map((route, r) => ({ route, objectsPerRequest: fit[r] as number, ambiguous: false }))
  return shares.sort((a, b) => b.objectsPerRequest - a.objectsPerRequest)
}

// A route explains the objects alone when its requests times one ratio leave a residual below this
// share of the objects themselves (root of the sums of squares over the intervals).
const ALONE_TOLERANCE = 0.1

function explainsAlone (y: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>, route: string, ratio: number): boolean {
  let residual = 0
  let size = 0
  y.forEach((count, i) => {
    residual += (count - ratio * ((requests[i] as Record<string, number>)[route] ?? 0)) ** 2
    size += count ** 2
  })
  return size > 0 && Math.sqrt(residual) <= ALONE_TOLERANCE * Math.sqrt(size)
}

/** Least squares with the routes whose share comes out negative set to 0, refit until none is; undefined when singular. */
function nonNegativeFit (y: readonly number[], requests: ReadonlyArray<Readonly<Record<string, number>>>, routes: readonly string[]): number[] | undefined {
  const active = routes.map(() => true)
  for (;;) {
    const columns = routes.flatMap((route, r) => active[r] === true ? [r] : [])
    if (columns.length > y.length) return undefined
    const x = (i: number, c: number): number => (requests[i] as Record<string, number>)[routes[columns[c] as number] as string] ?? 0
    const solved = solveNormalEquations(y, x, columns.length)
    if (solved === undefined) return undefined
    const worst = solved.reduce((w, value, c) => value < (solved[w] as number) ? c : w, 0)
    if ((solved[worst] as number) < 0) {
      active[columns[worst] as number] = false
      continue
    }
    const shares = routes.map(() => 0)
    columns.forEach((r, c) => { shares[r] = solved[c] as number })
    return shares
  }
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
    // Routes whose requests are proportional across intervals cannot be told apart.
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
