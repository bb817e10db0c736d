import { randomBytes } from 'node:crypto'
import { freePort } from '../free-port.js'
import { startAppProcess } from './app-process.js'
import type { AppProcess } from './app-process.js'
import type { SnapshotMark } from './chart.js'
import { DiagnosticsClient } from './diagnostics-client.js'
import { Progress } from './progress.js'
import type { ProgressStream } from './progress.js'
import { startSampling } from './sampler.js'

type Sampler = ReturnType<typeof startSampling>

/**
 * One run of the demo: what it started (the app, the sampler, the progress ticker), the phase
 * it is in, and the snapshots taken so far. `stop()` ends whatever is running, on success, on
 * error and on Ctrl-C alike.
 */
export class DemoSession {
  readonly startedAt = Date.now()
  readonly token = randomBytes(24).toString('base64url')
  readonly progress: Progress
  readonly snapshotMarks: SnapshotMark[] = []
  /** The heap profiles read so far, each right after a snapshot; null until sampling starts. */
  heapProfiles: string[] | null = null
  /** Shown on the progress line and recorded with each sample. */
  phase = 'start-up'
  #app: AppProcess | null = null
  #sampler: Sampler | null = null
  #ticker: NodeJS.Timeout | null = null

  constructor (stream: ProgressStream) {
    this.progress = new Progress(stream, () => this.secondsSinceStart())
  }

  secondsSinceStart (): number {
    return (Date.now() - this.startedAt) / 1000
  }

  /** Starts the demo app (and its database) in child processes, then samples its memory every second. */
  async start (): Promise<void> {
    this.#app = await startAppProcess(await freePort(), this.token)
    const sampler = startSampling(this.client(), this.#app.url, () => this.phase, this.startedAt)
    this.#sampler = sampler
    this.#ticker = setInterval(() => this.progress.show(this.phase, sampler.latest()), 1000)
  }

  get app (): AppProcess {
    if (this.#app === null) throw new Error('the demo app is not running')
    return this.#app
  }

  get sampler (): Sampler {
    if (this.#sampler === null) throw new Error('the demo app is not sampled')
    return this.#sampler
  }

  /** The app's last lines of output, while it runs, for the error message. */
  appOutput (): string | null {
    return this.#app?.output() ?? null
  }

  client (): DiagnosticsClient {
    return new DiagnosticsClient(this.app.url, this.token)
  }

  async stop (): Promise<void> {
    if (this.#ticker !== null) clearInterval(this.#ticker)
    this.#ticker = null
    await this.#sampler?.stop()
    await this.#app?.stop()
    this.#app = null
  }
}
