import { createWriteStream } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream } from 'node:stream/web'
import { postHeapSnapshot } from '../snapshot-request.js'

/** Talks to the plugin's routes exactly as an operator would: over HTTP, with the token. */
export class DiagnosticsClient {
  readonly #base: string
  readonly #token: string
  readonly #headers: Record<string, string>

  constructor (appUrl: string, token: string) {
    this.#base = `${appUrl}/_diagnostics`
    this.#token = token
    this.#headers = { authorization: `Bearer ${token}` }
  }

  async memory (): Promise<MemoryDocument> {
    return this.#json('/memory')
  }

  async gcStats (): Promise<GcStatsDocument> {
    return this.#json('/gc-stats')
  }

  /** POST /heap-snapshot?download=true: the snapshot, gzipped, written to `file`. */
  async snapshotTo (file: string): Promise<{ id: string, bytes: number }> {
    const res = await postHeapSnapshot(this.#base, this.#token, '?download=true')
    if (res.status !== 201 || res.body === null || res.headers.get('content-type') !== 'application/gzip') {
      throw new Error(`POST /heap-snapshot answered ${res.status} ${res.headers.get('content-type')}: ${(await res.text()).slice(0, 500)}`)
    }
    const output = createWriteStream(file, { mode: 0o600 })
    try {
      await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), output)
    } catch (error) {
      await rm(file, { force: true })
      throw error
    }
    return { id: res.headers.get('x-heap-snapshot-id') ?? '', bytes: output.bytesWritten }
  }

  /** POST /heap-profile: starts V8's sampling heap profiler (201, or 200 when it already ran so). */
  async startHeapProfile (intervalBytes: number): Promise<void> {
    const res = await fetch(`${this.#base}/heap-profile?intervalBytes=${intervalBytes}`, { method: 'POST', headers: this.#headers })
    if (res.status !== 201 && res.status !== 200) throw new Error(`POST /heap-profile answered ${res.status}: ${(await res.text()).slice(0, 500)}`)
    await res.arrayBuffer()
  }

  /** GET /heap-profile: the profile of live memory now, written to `file` (`.heapprofile` JSON). */
  async heapProfileTo (file: string, { sourceMaps }: { sourceMaps: boolean }): Promise<{ bytes: number }> {
    const res = await fetch(`${this.#base}/heap-profile${sourceMaps ? '?sourceMaps=true' : ''}`, { headers: this.#headers })
    const body = Buffer.from(await res.arrayBuffer())
    if (res.status !== 200) throw new Error(`GET /heap-profile answered ${res.status}: ${body.toString('utf8').slice(0, 500)}`)
    await writeFile(file, body, { mode: 0o600 })
    return { bytes: body.length }
  }

  async #json<T> (path: string): Promise<T> {
    const res = await fetch(`${this.#base}${path}`, { headers: this.#headers })
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`)
    return await res.json() as T
  }
}

export interface MemoryDocument {
  process: { rss: number, heapTotal: number, heapUsed: number, external: number, arrayBuffers: number }
  trend?: { verdict: string, reason: string, since: string | null, timeToLimit: { seconds: number, limit: string } | null }
  snapshot?: { last: { durationMs?: number, rssBeforeBytes?: number | null, peakRssBytes?: number | null } | null }
  [section: string]: unknown
}

export interface GcStatsDocument {
  window: { count: number, totalPauseMs: number, gcShare: number, kinds: Record<string, { count: number, p99Ms: number }> }
  [section: string]: unknown
}
