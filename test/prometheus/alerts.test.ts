import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { missingPrerequisite } from '../helpers/missing-prerequisite.js'

const prometheusDir = fileURLToPath(new URL('../../prometheus/', import.meta.url))

interface Outcome {
  /** Exit code, or `null` when the command could not start (`error` then says why) or was killed. */
  code: number | null
  output: string
  error?: Error
}

function run (command: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: prometheusDir, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.on('error', (error) => resolve({ code: null, output, error }))
    child.on('close', (code) => resolve({ code, output }))
  })
}

async function promtoolRuns (): Promise<boolean> {
  return (await run('promtool', ['--version'])).code === 0
}

// promtool comes from Debian's prometheus package: .ci/run installs it (install-promtool.sh);
// a test never installs packages.
const promtoolMissing = missingPrerequisite(t, await promtoolRuns() ? false : 'promtool is not on PATH: run prometheus/install-promtool.sh (as .ci/run does) to check the alert rules')

t.test('promtool check rules accepts alerts.yml', { skip: promtoolMissing }, async (t) => {
  const check = await run('promtool', ['check', 'rules', 'alerts.yml'])
  t.equal(check.code, 0, 'promtool check rules exits with 0', { output: check.output, error: check.error?.message })
  t.match(check.output, /SUCCESS: 5 rules found/)
})

t.test('promtool test rules passes alerts.test.yml', { skip: promtoolMissing }, async (t) => {
  const test = await run('promtool', ['test', 'rules', 'alerts.test.yml'])
  t.equal(test.code, 0, 'promtool test rules exits with 0', { output: test.output, error: test.error?.message })
  t.match(test.output, /SUCCESS/)
})
