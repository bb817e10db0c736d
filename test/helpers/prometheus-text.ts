// Reads Prometheus' text format into families for assertions. (Validity is checked separately by
// promtool, Prometheus' own parser; this only has to read well-formed output.)
export interface MetricSample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface MetricFamily {
  type: string
  samples: MetricSample[]
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g

export function parsePrometheusText (text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>()
  let current: MetricFamily | null = null
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) {
      current = { type: type[2]!, samples: [] }
      families.set(type[1]!, current)
      continue
    }
    const sample = SAMPLE.exec(line)
    if (sample === null || current === null) continue
    const labels: Record<string, string> = {}
    for (const [, name, value] of (sample[2] ?? '').matchAll(LABEL)) labels[name!] = value!
    current.samples.push({ name: sample[1]!, labels, value: Number(sample[3]) })
  }
  return families
}
