// The other native leaks of the corpus (test/fixtures/leak-service.ts), live, each in a real
// Fastify app under HTTP load beside a control whose native memory churns and plateaus: each
// leak is growing-native within one 60 s window, the control never growing.
import t from 'tap'
import { checkLeak, checkNotGrowing, watchLive } from '../../helpers/live-service.js'
import type { LiveApp } from '../../helpers/live-service.js'

const LOAD_SECONDS = 75
const CAUGHT_WITHIN_S = 60

// At 100 requests/s each (four services at once on two cores); what each keeps per second is
// that of the 200 requests/s recordings in test/fixtures/memory-series/.
const APPS: LiveApp[] = [
  { name: 'zlib-leak', expected: 'growing-native', env: { MODE: 'zlib-leak', ZLIB_EVERY: '20' } },
  { name: 'wasm-leak', expected: 'growing-native', env: { MODE: 'wasm-leak', WASM_EVERY: '4' } },
  { name: 'buffer-leak', expected: 'growing-native', env: { MODE: 'buffer-leak', BUFFER_BYTES: '8192' } },
  { name: 'malloc-churn', expected: 'not-growing', env: { MODE: 'malloc-churn', CHURN_MIN_BYTES: '256', CHURN_MAX_BYTES: '262144', CHURN_LIVE: '1000' } }
]

t.test(`zlib streams, WebAssembly memory and Buffers kept are growing-native within ${CAUGHT_WITHIN_S} s; native churn that plateaus never growing`, async (t) => {
  const watched = await watchLive(t, APPS, { seconds: LOAD_SECONDS, rate: 100 })
  for (const [i, app] of APPS.entries()) {
    t.ok(watched[i]!.verdicts.length >= LOAD_SECONDS * 0.7, `${app.name}: watched all along`)
    if (app.expected === 'not-growing') checkNotGrowing(t, app, watched[i]!)
    else checkLeak(t, app, watched[i]!, CAUGHT_WITHIN_S)
  }
})
