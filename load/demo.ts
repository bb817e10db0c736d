// npm run demo: reproduce the "new tenant connection on every request" leak and name the culprit
// with the library's leak finder (three snapshots per phase), the sampling heap profile over the
// leaking phase, and the plugin's trend verdict.
//   [--phase-seconds 30] [--fixed-seconds 2 × phase-seconds] [--warmup-seconds 5] [--connections 10]
//   [--leaking-connections 2] [--leaking-requests 3000] [--tenants 20] [--profile-interval-kib 32] [--out demo-report]
import { DEMO_USAGE, parseDemoArguments } from './demo/options.js'
import type { DemoOptions } from './demo/options.js'
import { renderTerminalReport, writeReportFiles } from './demo/report.js'
import { runDemo } from './demo/run.js'
import { DemoSession } from './demo/session.js'

async function main (argv: string[]): Promise<number> {
  let options: DemoOptions
  try {
    options = parseDemoArguments(argv)
  } catch (error) {
    console.error(`${(error as Error).message}\n${DEMO_USAGE}`)
    return 2
  }
  const session = new DemoSession(process.stdout)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping the demo app and its database`)
      session.stop().finally(() => process.exit(130))
    })
  }
  try {
    const result = await runDemo(options, session)
    console.log(renderTerminalReport(result))
    const files = await writeReportFiles(options.outDir, result)
    session.progress.say(`report written to ${files.markdown} and ${files.chart}`)
    return 0
  } catch (error) {
    session.progress.endLine()
    console.error(`demo failed: ${(error as Error).message}`)
    const output = session.appOutput()
    if (output !== null) console.error(`demo app output (last lines):\n${output.split('\n').slice(-20).join('\n')}`)
    await session.stop()
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
