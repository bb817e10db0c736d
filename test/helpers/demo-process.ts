import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { uncoveredChildEnv } from './child-env.js'

/** `npm run demo`'s entry, load/demo.ts. */
export const DEMO = fileURLToPath(new URL('../../load/demo.ts', import.meta.url))

/** Runs the demo with `args` in a child without coverage; resolves when it has closed. */
export async function runDemo (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], { env: uncoveredChildEnv() })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code] = await once(child, 'close') as [number]
  return { code, stdout, stderr }
}
