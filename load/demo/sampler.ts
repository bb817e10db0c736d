import type { DiagnosticsClient } from './diagnostics-client.js'

export interface Sample {
  /** Seconds since the demo started. */
  t: number
  phase: string
  heapUsed: number
  heapTotal: number
  rss: number
  external: number
  gcShare: number
  majorGcs: number
  mongooseConnections: number
  verdict: string | null
  verdictReason: string | null
  /** While the verdict is growing-*: seconds until the container's or the heap's limit at the current rate. */
  timeToLimitSeconds: number | null
  timeToLimit: string | null
}

/**
 * Reads /memory and /gc-stats through the plugin, and the app's /stats, every second. A sample
 * that fails (the app is busy writing a snapshot: its event loop is blocked) is skipped.
 */
export function startSampling (client: DiagnosticsClient, appUrl: string, phaseOf: () => string, startedAt: number, intervalMs = 1000) {
  const samples: Sample[] = []
  let running = true
  let inFlight: Promise<void> = Promise.resolve()

  async function sampleOnce (): Promise<void> {
    const phase = phaseOf()
    try {
      const [memory, gc, stats] = await Promise.all([
        client.memory(),
        client.gcStats(),
        fetch(`${appUrl}/stats`).then(async (res) => await res.json() as { mongooseConnections: number })
      ])
      samples.push({
        t: (Date.now() - startedAt) / 1000,
        phase,
        heapUsed: memory.process.heapUsed,
        heapTotal: memory.process.heapTotal,
        rss: memory.process.rss,
        external: memory.process.external,
        gcShare: gc.window.gcShare,
        majorGcs: gc.window.kinds.major?.count ?? 0,
        mongooseConnections: stats.mongooseConnections,
        verdict: memory.trend?.verdict ?? null,
        verdictReason: memory.trend?.reason ?? null,
        timeToLimitSeconds: memory.trend?.timeToLimit?.seconds ?? null,
        timeToLimit: memory.trend?.timeToLimit?.limit ?? null
      })
    } catch {}
  }

  const timer = setInterval(() => {
    if (running) inFlight = sampleOnce()
  }, intervalMs)

  return {
    samples,
    latest: (): Sample | undefined => samples.at(-1),
    async sampleNow (): Promise<Sample | undefined> {
      await inFlight
      await sampleOnce()
      return samples.at(-1)
    },
    async stop (): Promise<void> {
      running = false
      clearInterval(timer)
      await inFlight
    }
  }
}
