// How long after the leak starts does GET /memory say `growing-heap`? The demo app (with its 60 s
// trend window, 1 s samples) under load on POST /leaking-posts. Goal: <= 60 s. The same on recorded
// series, with the 5-minute /posts one for false alarms: bench/verdict-backtest.ts.
// Run: npx tsx bench/time-to-verdict.ts [--limit 120]
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { startAppProcess } from '../load/demo/app-process.js'
import { DiagnosticsClient } from '../load/demo/diagnostics-client.js'
import { drive } from '../load/drive.js'
import { freePort } from '../load/free-port.js'

const { values } = parseArgs({ options: { limit: { type: 'string', default: '120' } } })
const limitSeconds = Number(values.limit)

const token = randomBytes(24).toString('base64url')
const app = await startAppProcess(await freePort(), token)
try {
  const client = new DiagnosticsClient(app.url, token)
  await drive({ target: 'posts', url: app.url, durationSeconds: 5, connections: 10, tenants: 20, render: false })
  const started = Date.now()
  const load = drive({ target: 'leaking-posts', url: app.url, durationSeconds: limitSeconds, connections: 10, tenants: 20, render: false })
  let verdict = ''
  while (Date.now() - started < limitSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const memory = await client.memory().catch(() => null)
    verdict = memory?.trend?.verdict ?? verdict
    process.stdout.write(`\r${((Date.now() - started) / 1000).toFixed(0)} s: ${verdict}   `)
    if (process.env.DEBUG_TREND !== undefined) console.log(`\n${memory?.trend?.reason ?? ''}`)
    if (verdict === 'growing-heap') break
  }
  const seconds = (Date.now() - started) / 1000
  console.log(`\ntime to verdict on /leaking-posts: ${verdict === 'growing-heap' ? `${seconds.toFixed(0)} s` : `none within ${limitSeconds} s (last: ${verdict})`}  (goal <= 60 s)`)
  await app.stop()
  await load.catch(() => {})
} finally {
  await app.stop()
}
