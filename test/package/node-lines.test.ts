// The Node lines are stated three times, for three readers: package.json's engines (npm), the
// README's compatibility table (users) and .ci/node-lines (CI). They must say the same thing.
import { readFileSync } from 'node:fs'
import t from 'tap'

const root = new URL('../../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')

/** `<major> <tier>` lines of .ci/node-lines, comments and blank lines left out. */
function ciLines (): Array<{ major: number, tier: string }> {
  return read('.ci/node-lines').split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [major, tier] = line.split(/\s+/)
      return { major: Number(major), tier: tier ?? '' }
    })
}

/** The rows of the README's table headed `| Node line | status | what CI runs |`: major and CI cell. */
function readmeLines (): Array<{ major: number, ci: string }> {
  const lines = read('README.md').split('\n')
  const head = lines.findIndex((line) => /^\| Node line \| status \| what CI runs \|$/.test(line))
  if (head === -1) return []
  const rows = []
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith('|')) break
    const [, line0 = '', , ci = ''] = line.split('|').map((cell) => cell.trim())
    rows.push({ major: Number(line0.split('.')[0]), ci })
  }
  return rows
}

t.test('package.json engines, the README\'s compatibility table and .ci/node-lines name the same Node lines', async (t) => {
  const ci = ciLines()
  const readme = readmeLines()
  t.ok(ci.length >= 2, `.ci/node-lines lists ${ci.length} lines`)
  t.ok(ci.every(({ tier }) => tier === 'all' || tier === 'v8'), 'each line runs the whole suite (all) or the V8 tier (v8)')
  t.same(ci.filter(({ tier }) => tier === 'all').map(({ major }) => major), [Math.max(...ci.map(({ major }) => major))],
    'the whole suite runs on one line, the newest')
  t.same(readme.map(({ major }) => major).sort(), ci.map(({ major }) => major).sort(), 'the README lists the lines CI runs')
  for (const { major, tier } of ci) {
    const row = readme.find((r) => r.major === major)
    t.equal(/whole suite/.test(row?.ci ?? ''), tier === 'all', `Node ${major}: the README says what CI runs (${tier})`)
  }
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node
  t.equal(engines, `>=${Math.min(...ci.map(({ major }) => major))}`, 'engines starts at the oldest line CI runs')
})
