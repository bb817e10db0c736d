import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { uncoveredChildEnv } from './child-env.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface ChildApp {
  /** `http://127.0.0.1:port`. */
  url: string
  pid: number
  child: ChildProcess
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr (): string
  close (): Promise<void>
}

interface Teardown { teardown (fn: () => unknown): void }

/**
 * Starts a TypeScript app script in a child process without coverage (the script imports
 * test/fixtures/no-coverage-marker.ts first, so the plugin behaves as in production) and waits for the line it
 * prints, `{"port": n}`. Killed in teardown.
 */
export async function startChildApp (t: Teardown, script: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ChildApp> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...uncoveredChildEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = once(child, 'exit')
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  t.teardown(close)
  const lines = createInterface({ input: child.stdout! })
  const portLine = new Promise<string>((resolve) => {
    lines.on('line', (line: string) => { if (/^\{"port":\d+\}$/.test(line)) resolve(line) })
  })
  const first = await Promise.race([
    portLine,
    exited.then(([code, signal]) => { throw new Error(`${script} exited (${String(code ?? signal)}) before listening:\n${stderr}`) })
  ])
  lines.close()
  child.stdout?.resume()
  const { port } = JSON.parse(first) as { port: number }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, child, stderr: () => stderr, close }
}
