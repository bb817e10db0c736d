// The leak gate under node:test's runner, in a child process (its own runner, no tap): both
// tests of test/fixtures/leak-gate-node-test.ts pass, the leak caught and the steady route passed.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { uncoveredChildEnv } from '../helpers/child-env.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

t.test('node --test: the leak is caught, the steady route passes', async (t) => {
  const { code, stdout } = await new Promise<{ code: number, stdout: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/fixtures/leak-gate-node-test.ts'],
      { cwd: ROOT, env: uncoveredChildEnv() }, (error, stdout) => resolve({ code: error === null ? 0 : Number(error.code), stdout }))
  })
  t.equal(code, 0, stdout)
  t.match(stdout, /\nok \d+ - GET \/steady keeps nothing per request\n/)
  t.match(stdout, /\nok \d+ - GET \/leaky is caught\n/)
  t.match(stdout, /\n# pass 2\n/)
  t.match(stdout, /\n# fail 0\n/)
})
