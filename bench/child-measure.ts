// What a measured child process of the analysis benches prints as its last line, and the
// snippet (prepended to its `-e` script) that prints it.

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
