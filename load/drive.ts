import autocannon from 'autocannon'
import { TARGETS, tenantPool } from './targets.js'
import type { TargetName } from './targets.js'

export interface DriveOptions {
  target: TargetName
  /** Base URL of a running demo app. @defaultValue `'http://127.0.0.1:3000'` */
  url: string
  durationSeconds: number
  /** Stop after this many requests, if sooner. */
  maxRequests?: number
  connections: number
  tenants: number
  /** Show autocannon's progress bar and result table. */
  render: boolean
}

export interface DriveSummary {
  target: TargetName
  url: string
  requests: number
  requestsPerSecond: number
  latencyP50Ms: number
  latencyP99Ms: number
  statusCounts: Record<string, number>
  /** Connection errors, timeouts and unexpected statuses. */
  failures: number
  failureRate: number
}

export class AppUnreachableError extends Error {
  constructor (url: string, cause: unknown) {
    super(`cannot reach the demo app at ${url} (${describe(cause)}): start it first with \`npm start\` in another terminal`)
    this.name = 'AppUnreachableError'
  }
}

function describe (cause: unknown): string {
  const inner = (cause as { cause?: { code?: string } }).cause
  return inner?.code ?? (cause instanceof Error ? cause.message : String(cause))
}

/** The share of failures above which a run counts as failed. */
export const MAX_FAILURE_RATE = 0.01

export async function assertReachable (url: string): Promise<void> {
  try {
    await fetch(new URL('/stats', url), { signal: AbortSignal.timeout(3000) })
  } catch (error) {
    throw new AppUnreachableError(url, error)
  }
}

export async function drive (options: DriveOptions): Promise<DriveSummary> {
  await assertReachable(options.url)
  const target = TARGETS[options.target]
  const tenants = tenantPool(options.tenants)
  let sequence = 0
  let instance!: autocannon.Instance
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({
      url: new URL(target.path, options.url).href,
      connections: options.connections,
      duration: options.durationSeconds,
      ...(options.maxRequests === undefined ? {} : { amount: options.maxRequests }),
      requests: [{
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const tenant = tenants[Math.floor(Math.random() * tenants.length)]!
          return { ...request, body: JSON.stringify(target.body(tenant, ++sequence)) }
        }
      }]
    }, (error, result) => {
      if (error) reject(error)
      else resolve(result)
    })
  })
  if (options.render) autocannon.track(instance, { renderProgressBar: true, renderResultsTable: true, renderLatencyTable: false })
  const result = await finished
  const statusCounts: Record<string, number> = {}
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) statusCounts[status] = stats.count ?? 0
  const answered = Object.values(statusCounts).reduce((sum, count) => sum + count, 0)
  const expected = target.expectedStatuses.reduce((sum, status) => sum + (statusCounts[status] ?? 0), 0)
  const failures = result.errors + result.timeouts + (answered - expected)
  const attempts = answered + result.errors + result.timeouts
  return {
    target: options.target,
    url: options.url,
    requests: answered,
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    statusCounts,
    failures,
    failureRate: attempts === 0 ? 1 : failures / attempts
  }
}
