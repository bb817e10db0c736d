import { createRequire } from 'node:module'
import { hostname } from 'node:os'
import type { CaptureRecord } from '../capture/policy.js'
import type { VerdictChange, TrendSeries } from '../trend/monitor.js'
import type { ResolvedOptions } from '../types/options.js'
import type { TrendReport } from '../types/trend.js'
import { chooseFiles, listEvidence } from './bundle.js'
import type { EvidenceFile } from './bundle.js'
import { incidentSummary } from './summary.js'

// Not named `require`: this file is also built to CommonJS, where that name is taken.
const requireOwn = createRequire(import.meta.url)

export interface IncidentSources {
  readonly dir: string
  readonly options: ResolvedOptions
  readonly memory: () => object
  readonly gcStats: () => object
  readonly trend: () => TrendReport
  readonly history: () => readonly VerdictChange[]
  readonly series: () => TrendSeries
  readonly captures: () => readonly CaptureRecord[]
}

export interface Incident {
  readonly summary: string
  readonly documents: Record<string, unknown>
  readonly files: readonly EvidenceFile[]
}

/** Everything the bundle holds, read now. */
export function collectIncident (sources: IncidentSources, { files: wanted }: { files: boolean }): Incident {
  const generatedAt = new Date()
  const versions = { node: process.version, plugin: pluginVersion(), v8: process.versions.v8 }
  const evidence = listEvidence(sources.dir)
  const { included, omitted } = chooseFiles(evidence, wanted)
  const trend = sources.trend()
  const history = sources.history()
  const captures = sources.captures()
  const summary = incidentSummary({
    generatedAt,
    pid: process.pid,
    hostname: hostname(),
    uptimeSeconds: process.uptime(),
    versions,
    trend,
    history,
    captures,
    included: included.map((file) => `files/${file.name}`),
    omitted
  })
  return {
    summary,
    files: included,
    documents: {
      'process.json': { pid: process.pid, hostname: hostname(), uptimeSeconds: process.uptime(), generatedAt: generatedAt.toISOString(), versions, platform: process.platform, arch: process.arch },
      'options.json': publicOptions(sources.options),
      'memory.json': sources.memory(),
      'gc-stats.json': sources.gcStats(),
      'trend/series.json': sources.series(),
      'trend/verdict-history.json': history,
      'captures.json': { captures, files: evidence.map(({ path: _path, ...file }) => ({ ...file, included: included.some((f) => f.name === file.name) })) }
    }
  }
}

/** The resolved options without secrets: no token, no strategy, no registry; their counts only. */
export function publicOptions (options: ResolvedOptions): Record<string, unknown> {
  const { auth, metrics, ...rest } = options
  return {
    ...rest,
    auth: auth === false ? false : { tokens: `${auth.tokens.length} token(s), not shown`, strategies: `${auth.strategies.length} strategy function(s)`, relation: auth.relation },
    metrics: metrics === null ? null : { route: metrics.route, auth: metrics.auth }
  }
}

function pluginVersion (): string {
  try {
    return (requireOwn('fastify-memory-diagnostics/package.json') as { version: string }).version
  } catch {
    return 'unknown' // bundled by a tool that dropped the package.json
  }
}
