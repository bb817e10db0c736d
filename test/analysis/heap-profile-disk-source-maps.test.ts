// A compiled TypeScript app run by plain node (no --enable-source-maps, no loader): its profile's
// frames are the generated JavaScript's, and find-leaks maps them through the `.map` files it
// finds on disk next to the scripts.
import { execFile } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'
import { findGrowingSites } from '../../analysis/index.js'

// Types and interfaces vanish in the output, so the generated lines are not the source's.
const SOURCE = `import { Session } from 'node:inspector'
import { rmSync, writeFileSync } from 'node:fs'

interface OrderRecord {
  id: number
  lines: number[]
}

type Kept = OrderRecord[]

const kept: Kept = []

function keepOrder (id: number): OrderRecord {
  const record: OrderRecord = { id, lines: Array.from({ length: 64 }, (_, i) => id + i) }
  kept.push(record)
  return record
}

const session = new Session()
session.connect()
session.post('HeapProfiler.startSampling', { samplingInterval: 1024 }, () => {
  for (let i = 0; i < 5000; i++) keepOrder(i)
  session.post('HeapProfiler.getSamplingProfile', (error, answer) => {
    if (error !== null) throw error
    writeFileSync(process.argv[2] ?? '', JSON.stringify(answer.profile))
    console.log(kept.length)
  })
})
`

const INLINE_SOURCE = SOURCE.replace('keepOrder', 'keepInline').replace('keepOrder(i)', 'keepInline(i)')

async function compileAndRun (dir: string, name: string, source: string, options: ts.CompilerOptions): Promise<string> {
  const { outputText, sourceMapText } = ts.transpileModule(source, {
    fileName: `${name}.ts`,
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, ...options }
  })
  // as tsc writes a build: name.js beside name.js.map (the name its sourceMappingURL gives), ESM by package.json
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
  writeFileSync(join(dir, `${name}.ts`), source)
  writeFileSync(join(dir, `${name}.js`), outputText)
  if (sourceMapText !== undefined) writeFileSync(join(dir, `${name}.js.map`), sourceMapText)
  const profile = join(dir, `${name}.heapprofile`)
  await promisify(execFile)(process.execPath, [join(dir, `${name}.js`), profile], { env: { PATH: process.env.PATH ?? '' } })
  return profile
}

function lineOf (source: string, text: string): number {
  return source.split('\n').findIndex((line) => line.includes(text)) + 1
}

t.test('a .map file next to the compiled script: the TypeScript line of each frame', async (t) => {
  const dir = t.testdir()
  const profile = await compileAndRun(dir, 'app', SOURCE, { sourceMap: true })
  const report = await findGrowingSites([profile], { top: 50 })
  const frame = report.sites.flatMap((site) => site.stack).find((f) => f.functionName === 'keepOrder')
  t.match(frame, { url: pathToFileURL(join(dir, 'app.js')).href, source: { url: pathToFileURL(join(dir, 'app.ts')).href, line: lineOf(SOURCE, 'function keepOrder') } },
    `keepOrder at app.ts:${lineOf(SOURCE, 'function keepOrder')}, where it runs as app.js:${frame?.line ?? '?'}`)
  t.not(frame?.line, lineOf(SOURCE, 'function keepOrder'), 'the generated line differs from the source line (the fixture proves a mapping)')

  const unmapped = await findGrowingSites([profile], { top: 50, sourceMaps: false })
  t.equal(unmapped.sites.flatMap((site) => site.stack).find((f) => f.functionName === 'keepOrder')?.source, undefined, 'sourceMaps: false reads no map')
})

t.test('an inline map (data: URL) is read too, and a script whose map is missing keeps its generated position', async (t) => {
  const dir = t.testdir()
  const inline = await compileAndRun(dir, 'inline', INLINE_SOURCE, { inlineSourceMap: true })
  const frame = (await findGrowingSites([inline], { top: 50 })).sites.flatMap((site) => site.stack).find((f) => f.functionName === 'keepInline')
  t.match(frame?.source, { url: pathToFileURL(join(dir, 'inline.ts')).href, line: lineOf(INLINE_SOURCE, 'function keepInline') })

  const lost = await compileAndRun(dir, 'lost', SOURCE, { sourceMap: true })
  rmSync(join(dir, 'lost.js.map'))
  const kept = (await findGrowingSites([lost], { top: 50 })).sites.flatMap((site) => site.stack).find((f) => f.functionName === 'keepOrder')
  t.ok(kept !== undefined && kept.source === undefined, 'no map, no source: the generated position stays')
})
