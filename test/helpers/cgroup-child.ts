// A fixture app run in its own process inside a memory cgroup, and plain HTTP calls to it (no
// keep-alive agent: a socket left open would keep the test's event loop busy).
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { TOKEN } from './build-app.js'
import type { Teardown } from './build-app.js'
import type { MemoryCgroup } from './memory-cgroup.js'

export interface CgroupChild<Ready> {
  child: ChildProcess
  /** What the fixture sent once ready (its port, at least). */
  ready: Ready
  /** Everything it wrote to stdout and stderr so far. */
  output (): string
}

/**
 * Starts `fixture` with a clean environment (not tap's loaders and coverage hooks, only `env`),
 * moves it into the cgroup, then sends it `go` (it builds its heap inside the cgroup) and waits
 * for its ready message. SIGKILLed in teardown.
 */
export async function startInCgroup<Ready extends { port: number }> (t: Teardown, cgroup: MemoryCgroup, fixture: string, env: Record<string, string>): Promise<CgroupChild<Ready>> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { PATH: process.env.PATH, TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  let output = ''
  child.stdout?.on('data', (chunk) => { output += chunk })
  child.stderr?.on('data', (chunk) => { output += chunk })
  writeFileSync(join(cgroup.dir, 'cgroup.procs'), String(child.pid))
  child.send('go')
  const [ready] = await Promise.race([
    once(child, 'message') as Promise<[Ready]>,
    exited.then(() => { throw new Error(`the app exited before it was ready:\n${output}`) })
  ])
  return { child, ready, output: () => output }
}

export interface Answer {
  statusCode: number
  headers: Record<string, unknown>
  body: any
}

/** One request with the test token; the JSON body parsed. */
export function call (port: number, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${TOKEN}` }, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ statusCode: res.statusCode as number, headers: res.headers, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end()
  })
}
