import { performance } from 'node:perf_hooks'
// What a measured child process of the analysis benches prints as its last line: printed by
// printMeasure in our own children, by the REPORT snippet (prepended to an `-e` script) in the
// others, and read back by measureOf.

export interface Measure {
  readonly ok: boolean
  readonly wallMs: number
  readonly cpuMs: number
  readonly maxRssBytes: number
  readonly note: string
}

export const REPORT = `
function report (started, note, ok = true) {
  const cpu = process.cpuUsage()
  console.log(JSON.stringify({ ok, wallMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024, note }))
}
`

/** In a measured child of ours: prints its Measure (time since `started`, CPU, peak RSS) as the last line. */
export function printMeasure (started: number, note: string): void {
  const cpu = process.cpuUsage()
  const measured: Measure = {
    ok: true,
    wallMs: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    note
  }
  console.log(JSON.stringify(measured))
}

/** In the parent: the Measure a child printed last, or a failed one with the first line of the error. */
export async function measureOf (output: Promise<string>): Promise<Measure> {
  try {
    const lines = (await output).trim().split('\n')
    return JSON.parse(lines.at(-1) as string) as Measure
  } catch (err) {
    return { ok: false, wallMs: NaN, cpuMs: NaN, maxRssBytes: NaN, note: (err as Error).message.split('\n')[0] as string }
  }
}
