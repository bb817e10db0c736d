// npm run test:posts | test:leaking-posts | test:sessions | test:leaking-sessions
//   [--url http://127.0.0.1:3000] [--duration 10] [--connections 10] [--tenants 20]
import { parseArgs } from 'node:util'
import { positiveIntegerArgument } from './arguments.js'
import { MAX_FAILURE_RATE, drive } from './drive.js'
import { TARGETS } from './targets.js'
import type { TargetName } from './targets.js'

const USAGE = `usage: load/cli.ts <${Object.keys(TARGETS).join('|')}> [--url URL] [--duration SECONDS] [--connections N] [--tenants N]`

class UsageError extends Error {}

export async function main (argv: string[]): Promise<number> {
  let options
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        duration: { type: 'string', default: '10' },
        connections: { type: 'string', default: '10' },
        tenants: { type: 'string', default: '20' }
      }
    })
    const target = positionals[0] as TargetName
    if (positionals.length !== 1 || !(target in TARGETS)) throw new UsageError('one target is required')
    options = {
      target,
      url: values.url,
      durationSeconds: positiveIntegerArgument(values.duration, 'duration'),
      connections: positiveIntegerArgument(values.connections, 'connections'),
      tenants: positiveIntegerArgument(values.tenants, 'tenants'),
      render: true
    }
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`)
    return 2
  }
  try {
    const summary = await drive(options)
    const counts = Object.entries(summary.statusCounts).map(([status, count]) => `${status}: ${count}`).join(', ')
    console.log(`${summary.target}: ${summary.requests} requests, ${summary.requestsPerSecond} req/s, p99 ${summary.latencyP99Ms} ms (${counts})`)
    if (summary.failureRate > MAX_FAILURE_RATE) {
      console.error(`${summary.failures} failed requests (${(summary.failureRate * 100).toFixed(1)}%, more than ${MAX_FAILURE_RATE * 100}%): see the demo app's log`)
      return 1
    }
    return 0
  } catch (error) {
    console.error((error as Error).message)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
