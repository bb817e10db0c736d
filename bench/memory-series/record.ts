// Records a real memory series: starts a process with the recorder preloaded, drives HTTP load
// at a fixed rate, and writes the series as a backtest fixture.
//   node --import tsx bench/memory-series/record.ts --name leak --mode leak --seconds 180 --rate 200 [--env K=V ...]
//   node --import tsx bench/memory-series/record.ts --name posts --demo posts --seconds 300
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { drive } from '../../load/drive.js'
import { freePort } from '../../load/free-port.js'
import type { TargetName } from '../../load/targets.js'
import { readRecording } from './recording.js'
import type { Expectation } from './replay.js'

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    mode: { type: 'string', default: 'steady' },
    demo: { type: 'string' },
    seconds: { type: 'string', default: '180' },
    rate: { type: 'string', default: '200' },
    connections: { type: 'string', default: '10' },
    'warmup-seconds': { type: 'string', default: '0' },
    expected: { type: 'string' },
    description: { type: 'string', default: '' },
    env: { type: 'string', multiple: true, default: [] }
  }
})
if (values.name === undefined || values.expected === undefined) throw new Error('--name and --expected are required')
const seconds = Number(values.seconds)
const port = await freePort()
const recordFile = join(tmpdir(), `memory-series-${values.name}-${process.pid}.json`)
const recorder = fileURLToPath(new URL('./recorder.ts', import.meta.url))
const script = values.demo === undefined
  ? fileURLToPath(new URL('../../test/fixtures/leak-service.ts', import.meta.url))
  : fileURLToPath(new URL('../../demo-app/server.ts', import.meta.url))
const extraEnv = Object.fromEntries(values.env.map((pair) => pair.split('=') as [string, string]))
const child = spawn(process.execPath, ['--import', 'tsx', '--import', recorder, script], {
  // the demo app needs a diagnostics token; the small service runs without the plugin
  env: { ...process.env, ...extraEnv, MODE: values.mode, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', MEMDIAG_RECORD: recordFile, ...(values.demo === undefined ? {} : { DIAGNOSTICS_TOKEN: 'x'.repeat(24) }) },
  stdio: ['ignore', 'inherit', 'inherit']
})
const url = `http://127.0.0.1:${port}`
for (let i = 0; ; i++) {
  try {
    await fetch(values.demo === undefined ? `${url}/work` : `${url}/stats`, { method: values.demo === undefined ? 'POST' : 'GET', signal: AbortSignal.timeout(1000) })
    break
  } catch {
    if (i > 300) throw new Error('the service did not start')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
const loadStartedAt = Date.now()
if (values.demo !== undefined) {
  const warmup = Number(values['warmup-seconds'])
  if (warmup > 0) await drive({ target: 'posts', url, durationSeconds: warmup, connections: 10, tenants: 20, render: false })
  await drive({ target: values.demo as TargetName, url, durationSeconds: seconds, connections: Number(values.connections), tenants: 20, render: false })
} else {
  await autocannon({ url: `${url}/work`, method: 'POST', connections: Number(values.connections), overallRate: Number(values.rate), duration: seconds })
}
child.kill('SIGTERM')
await once(child, 'exit')
const out = fileURLToPath(new URL(`../../test/fixtures/memory-series/${values.name}.json`, import.meta.url))
const series = readRecording(recordFile, {
  name: values.name,
  description: values.description,
  expected: values.expected as Expectation,
  command: `node --import tsx bench/memory-series/record.ts ${process.argv.slice(2).join(' ')}`,
  loadStartedAt
})
writeFileSync(out, JSON.stringify(series) + '\n')
console.log(`${out}: ${series.samples.length} samples, ${series.majorGcs.length} major GCs`)
