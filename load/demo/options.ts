import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { positiveIntegerArgument } from '../arguments.js'

export const DEMO_USAGE = 'usage: load/demo.ts [--phase-seconds 30] [--fixed-seconds 2 × phase-seconds] [--warmup-seconds 5] [--connections 10] ' +
  '[--leaking-connections 2] [--leaking-requests 3000] [--tenants 20] [--profile-interval-kib 32] [--out demo-report]'

export interface DemoOptions {
  /** The leaking phase's duration, unless `leakingRequests` are sent sooner. */
  phaseSeconds: number
  fixedSeconds: number
  warmupSeconds: number
  /** Clients of the warm-up and fixed phases. */
  connections: number
  leakingConnections: number
  /** The leaking phase stops after this many requests. */
  leakingRequests: number
  tenants: number
  /** The sampling heap profile's interval over the leaking phase, in bytes. */
  profileIntervalBytes: number
  /** Absolute path of the report's folder (emptied first). */
  outDir: string
}

/** The demo's options from its command line; throws the message to show when one is wrong. */
export function parseDemoArguments (argv: string[]): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      // the leaking phase: longer, its connection per request runs this machine out of file descriptors
      'phase-seconds': { type: 'string', default: '30' },
      // one trend window (60 s in the demo app) by default, so that the verdict at its end covers the
      // fixed endpoint only, not the app's start-up
      'fixed-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string', default: '5' },
      connections: { type: 'string', default: '10' },
      // each leaking request keeps database connections open: 4,500 of them in 30 s ran the demo app
      // out of file descriptors here (ulimit 20,000), hence fewer clients and a cap on the requests
      'leaking-connections': { type: 'string', default: '2' },
      'leaking-requests': { type: 'string', default: '3000' },
      tenants: { type: 'string', default: '20' },
      // a leaking request keeps ~70 KB of heap spread over dozens of the driver's functions: at
      // V8's 512 KiB default 3,000 requests give ~400 samples in all, at 32 KiB several thousand
      'profile-interval-kib': { type: 'string', default: '32' },
      out: { type: 'string', default: 'demo-report' }
    }
  })
  const phaseSeconds = positiveIntegerArgument(values['phase-seconds'], 'phase-seconds')
  return {
    phaseSeconds,
    fixedSeconds: values['fixed-seconds'] === undefined ? 2 * phaseSeconds : positiveIntegerArgument(values['fixed-seconds'], 'fixed-seconds'),
    warmupSeconds: positiveIntegerArgument(values['warmup-seconds'], 'warmup-seconds'),
    connections: positiveIntegerArgument(values.connections, 'connections'),
    leakingConnections: positiveIntegerArgument(values['leaking-connections'], 'leaking-connections'),
    leakingRequests: positiveIntegerArgument(values['leaking-requests'], 'leaking-requests'),
    tenants: positiveIntegerArgument(values.tenants, 'tenants'),
    profileIntervalBytes: positiveIntegerArgument(values['profile-interval-kib'], 'profile-interval-kib') * 1024,
    outDir: resolve(values.out)
  }
}
