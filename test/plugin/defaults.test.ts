// The defaults an editor shows the user (`@defaultValue` in the option types) are the ones the
// gate fills in (`DEFAULTS`), and every default in DEFAULTS is documented.
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { DEFAULTS } from '../../plugin/defaults.js'
import { resolveOptions } from '../../plugin/options.js'
import { TOKEN } from '../helpers/build-app.js'

// every option interface lives there, TrendThresholds included
const OPTION_TYPES = fileURLToPath(new URL('../../plugin/types/options.ts', import.meta.url))
// each option interface, and where its options sit in DEFAULTS
const GROUPS: Record<string, string> = {
  MemoryDiagnosticsOptions: '',
  AuthOptions: 'auth',
  RateLimitOptions: 'rateLimit',
  GcOptions: 'gc',
  SnapshotOptions: 'snapshot',
  HeapProfileOptions: 'heapProfile',
  RedactOptions: 'redact',
  TrendOptions: 'trend',
  TrendThresholds: 'trend.thresholds',
  MetricsOptions: 'metrics',
  UploadOptions: 'upload',
  CaptureOptions: 'capture'
}

/** Every `@defaultValue` of the option interfaces, by option path: the first code span of the tag. */
function documentedDefaults (): Map<string, string> {
  const found = new Map<string, string>()
  const source = ts.createSourceFile(OPTION_TYPES, readFileSync(OPTION_TYPES, 'utf8'), ts.ScriptTarget.Latest, true)
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !(node.name.text in GROUPS)) return
    const prefix = GROUPS[node.name.text] as string
    for (const member of node.members) {
      if (!ts.isPropertySignature(member)) continue
      const tag = ts.getJSDocTags(member).find((tag) => tag.tagName.text === 'defaultValue')
      if (tag === undefined) continue
      const code = /`([^`]+)`/.exec(ts.getTextOfJSDocComment(tag.comment) ?? '')
      const path = prefix === '' ? member.name.getText(source) : `${prefix}.${member.name.getText(source)}`
      found.set(path, code?.[1] ?? '')
    }
  })
  return found
}

function at (path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], DEFAULTS)
}

const isGroup = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value)

// defaults that depend on the machine or on another option, documented in words
const IN_WORDS: Record<string, (t: Test, documented: string) => void> = {
  'snapshot.dir': (t, documented) => {
    t.equal(documented, '<os.tmpdir()>/fastify-memory-diagnostics-<uid>', 'snapshot.dir: documented in words')
    t.equal(DEFAULTS.snapshot.dir, join(tmpdir(), `fastify-memory-diagnostics-${process.getuid?.()}`))
  },
  'trend.thresholds.minSpanMs': (t, documented) => {
    t.equal(documented, '0.5 × windowMs', 'trend.thresholds.minSpanMs: documented in words')
    t.equal(DEFAULTS.trend.thresholds.minSpanMs(60_000), 30_000)
  }
}

t.test('every documented default is the one the gate fills in', async (t) => {
  const documented = documentedDefaults()
  t.ok(documented.size >= 25, `${documented.size} documented defaults found`)
  for (const [path, code] of documented) {
    if (path in IN_WORDS) {
      IN_WORDS[path]?.(t, code)
      continue
    }
    // the code spans are JavaScript literals: `3600000`, `'or'`, `{ max: 60, timeWindow: 60000 }`
    // eslint-disable-next-line no-new-func
    const value = new Function(`return (${code})`)() as unknown
    t.same(at(path), value, `${path}: documented \`${code}\``)
  }
})

t.test('every default in DEFAULTS is documented on its option', async (t) => {
  const documented = documentedDefaults()
  const undocumented: string[] = []
  const walk = (value: unknown, path: string): void => {
    if (documented.has(path)) return
    if (!isGroup(value)) {
      undocumented.push(path)
      return
    }
    for (const [key, child] of Object.entries(value as object)) walk(child, path === '' ? key : `${path}.${key}`)
  }
  walk(DEFAULTS, '')
  t.same(undocumented, [])
})

t.test('the gate fills in DEFAULTS, fresh objects every time', async (t) => {
  const resolved = resolveOptions({ auth: { tokens: [TOKEN] }, metrics: { registry: { metrics: () => '' } as never } })
  t.same(resolved.rateLimit, { memory: DEFAULTS.rateLimit.memory, gcStats: DEFAULTS.rateLimit.gcStats, takeSnapshot: DEFAULTS.rateLimit.takeSnapshot, snapshotFiles: DEFAULTS.rateLimit.snapshotFiles, metrics: DEFAULTS.rateLimit.metrics, heapProfile: DEFAULTS.rateLimit.heapProfile })
  t.same(resolved.failedAuthLimit, DEFAULTS.rateLimit.failedAuth)
  t.not(resolved.rateLimit.memory, DEFAULTS.rateLimit.memory, 'a copy: the limiter may keep and change its options')
  t.same(resolved.trend, { intervalMs: DEFAULTS.trend.intervalMs, capacityMs: DEFAULTS.trend.capacityMs, thresholds: { ...DEFAULTS.trend.thresholds, minSpanMs: DEFAULTS.trend.thresholds.windowMs / 2 } })
  t.same(resolved.snapshot, { ...DEFAULTS.snapshot, dir: DEFAULTS.snapshot.dir })
  t.same(resolved.gc, DEFAULTS.gc)
  t.same(resolved.cgroup, DEFAULTS.cgroup)
  t.match(resolved.metrics, { route: DEFAULTS.metrics.route, auth: DEFAULTS.metrics.auth })
  t.same(resolved.auth, { tokens: [TOKEN], strategies: [], relation: DEFAULTS.auth.relation })
  const again = resolveOptions({ auth: { strategies: [async () => {}] } })
  t.not((again.auth as { tokens: string[] }).tokens, DEFAULTS.auth.tokens, 'the default token list is not shared')
  t.same(DEFAULTS.auth.tokens, [], 'and stays empty')
})
