#!/usr/bin/env node
// Runs one tier of the test suite with tap (`node scripts/test-tier.mjs unit|integration|v8 [tap flags]`).
// test/tiers.json names the integration and v8 files; every other test file is in the fast tier
// (unit). `integration` runs both slow lists, `v8` only its own. `npm test` runs every file (`tap`).
// tap sorts the files it is given, whatever their order here.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const TIERS = ['unit', 'integration', 'v8']

/** Every tap test file under test/, as a path relative to the root. */
function testFiles () {
  return readdirSync(join(root, 'test'), { recursive: true })
    .map((file) => relative(root, join(root, 'test', String(file))).split('\\').join('/'))
    .filter((file) => file.endsWith('.test.ts'))
    .sort()
}

/** The files of a tier; a file test/tiers.json names that does not exist is an error. */
export function tierFiles (tier) {
  const { integration, v8 } = JSON.parse(readFileSync(join(root, 'test/tiers.json'), 'utf8'))
  for (const file of [...integration, ...v8]) {
    if (!existsSync(join(root, file))) throw new Error(`test/tiers.json names ${file}, which does not exist`)
  }
  const both = integration.filter((file) => v8.includes(file))
  if (both.length > 0) throw new Error(`test/tiers.json names ${both.join(', ')} in both integration and v8`)
  const slow = [...integration, ...v8]
  const unit = testFiles().filter((file) => !slow.includes(file))
  if (tier === 'unit') return unit
  if (tier === 'integration') return slow
  if (tier === 'v8') return v8
  throw new Error(`the tier must be one of ${TIERS.join(', ')}, got "${tier}"`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [tier, ...flags] = process.argv.slice(2)
  let files
  try {
    files = tierFiles(tier)
  } catch (error) {
    console.error(`test-tier: ${error.message}`)
    process.exit(2)
  }
  const tap = join(root, 'node_modules', '.bin', 'tap')
  const { status, signal } = spawnSync(tap, [...flags, ...files], { cwd: root, stdio: 'inherit' })
  process.exit(status ?? (signal === null ? 1 : 128))
}
