import t from 'tap'
import { resolve } from 'node:path'
import { parseDemoArguments } from '../../../load/demo/options.js'

t.test('the defaults: 30 s leaking phase, a fixed phase twice as long, 3,000 leaking requests', async (t) => {
  t.same(parseDemoArguments([]), {
    phaseSeconds: 30,
    fixedSeconds: 60,
    warmupSeconds: 5,
    connections: 10,
    leakingConnections: 2,
    leakingRequests: 3000,
    tenants: 20,
    profileIntervalBytes: 32 * 1024,
    outDir: resolve('demo-report')
  })
})

t.test('the fixed phase follows --phase-seconds unless given', async (t) => {
  t.equal(parseDemoArguments(['--phase-seconds', '4']).fixedSeconds, 8)
  t.equal(parseDemoArguments(['--phase-seconds', '4', '--fixed-seconds', '12']).fixedSeconds, 12)
  t.equal(parseDemoArguments(['--leaking-requests', '200']).leakingRequests, 200)
  t.equal(parseDemoArguments(['--out', 'x']).outDir, resolve('x'))
  t.equal(parseDemoArguments(['--profile-interval-kib', '8']).profileIntervalBytes, 8192)
})

t.test('every numeric argument must be a positive integer, and the message names it', async (t) => {
  for (const name of ['phase-seconds', 'fixed-seconds', 'warmup-seconds', 'connections', 'leaking-connections', 'leaking-requests', 'tenants', 'profile-interval-kib']) {
    for (const value of ['0', '-3', '1.5', 'ten', '']) {
      t.throws(() => parseDemoArguments([`--${name}=${value}`]), { message: `--${name} must be a positive integer, got "${value}"` }, `--${name} ${value}`)
    }
  }
})

t.test('an unknown option is refused', async (t) => {
  t.throws(() => parseDemoArguments(['--phase', '3']), /Unknown option '--phase'/)
})
