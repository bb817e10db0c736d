import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SERVER = fileURLToPath(new URL('../../demo-app/server.ts', import.meta.url))

export interface AppProcess {
  url: string
  pid: number
  /** The app's own output, kept for the error message when it dies. */
  output (): string
  stop (): Promise<void>
}

/**
 * The demo app in its own process (it starts its database launcher, which starts the database
 * in a third one), so that the memory figures the demo reads are the app's own. Its snapshots go
 * to a directory of its own, removed once it stopped: the demo keeps the copies it downloaded.
 */
export async function startAppProcess (port: number, token: string): Promise<AppProcess> {
  const snapshotDir = mkdtempSync(join(tmpdir(), 'memdiag-demo-app-'))
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DIAGNOSTICS_TOKEN: token, DIAGNOSTICS_SNAPSHOT_DIR: snapshotDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stop = async () => {
    await stopChild(child)
    rmSync(snapshotDir, { recursive: true, force: true })
  }
  let output = ''
  const keep = (chunk: Buffer) => { output = (output + chunk.toString('utf8')).slice(-20_000) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitUntilReady(child, url, () => output)
  } catch (error) {
    await stop()
    throw error
  }
  return { url, pid: child.pid!, output: () => output, stop }
}

async function waitUntilReady (child: ChildProcess, url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the demo app exited during startup (${child.exitCode ?? child.signalCode}):\n${output()}`)
    }
    try {
      const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(1000) })
      if (res.ok) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  await stopChild(child)
  throw new Error(`the demo app did not answer on ${url} within 60 s:\n${output()}`)
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}
