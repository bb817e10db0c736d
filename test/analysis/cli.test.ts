import { execFile } from 'node:child_process'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { main } from '../../analysis/cli.js'
import type { HeapDiff } from '../../analysis/diff.js'
import type { LeakReport } from '../../analysis/find-leaks.js'
import { gzipFile, rootedGraph, snapshotText, writeLeakSnapshots } from './fixtures.js'
import { writeLeakSeries } from './leak-fixtures.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = join(ROOT, 'analysis/cli.ts')
const LEAK_CLASS = 'LeakyWidgetForCliTest'
// Carriage return, then ANSI "erase to end of line".
const WIPE_LINE = '\r\u001b[K'

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The CLI as users run it: a child process. */
function cli (args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr })
    })
  })
}

/** The CLI in this process, writing to strings; `isTTY` pretends stderr is a terminal. */
async function inProcess (args: readonly string[], isTTY: boolean): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(args, {
    stdout: { write: (text: string) => { stdout += text } },
    stderr: { isTTY, write: (text: string) => { stderr += text } }
  })
  return { code, stdout, stderr }
}

const tableLines = (stdout: string): string[] => {
  const lines = stdout.split('\n')
  const header = lines.findIndex((line) => line.startsWith('Constructor'))
  const end = lines.findIndex((line, i) => i > header && (line === '' || line.startsWith('…')))
  return lines.slice(header + 1, end)
}

t.test('diff of two real snapshots', async (t) => {
  const dir = t.testdir()
  const { before, after } = await writeLeakSnapshots(dir, LEAK_CLASS, 2000)

  t.test('prints the table and the retainer paths, nothing on stderr', async (t) => {
    const run = await cli(['diff', before, after])
    t.equal(run.code, 0)
    t.equal(run.stderr, '')
    t.match(run.stdout, /^Before: [\d,]+ nodes, .+ {2}.*before\.heapsnapshot\n/)
    t.match(run.stdout, /\nConstructor +# New +# Deleted +# Delta +Alloc\. Size +Freed Size +Size Delta\n/)
    t.match(tableLines(run.stdout)[0], new RegExp(`^${LEAK_CLASS} +2,000 +0 +\\+2,000 `))
    t.match(run.stdout, new RegExp(`\\n {4}\\(GC roots\\) → global\\.retained → Array\\[\\d+\\] → ${LEAK_CLASS}\\n`))
    t.equal(tableLines(run.stdout).length, 20, '20 rows by default')
    t.notMatch(run.stdout, /Retained \(new\)/)
    const retained = await cli(['diff', before, after, '--retained', '--paths', '0', '--top', '3'])
    t.equal(retained.code, 0)
    t.match(retained.stdout, /\nConstructor +# New +# Deleted +# Delta +Alloc\. Size +Freed Size +Size Delta +Retained \(new\)\n/)
    t.match(tableLines(retained.stdout)[0], new RegExp(`^${LEAK_CLASS} +2,000 .* [\\d.]+ kB$`))
  })

  t.test('--json prints the diff as JSON; --top limits the rows', async (t) => {
    const run = await cli(['diff', before, after, '--json', '--top', '3', '--sort', 'countDelta', '--paths', '1'])
    t.equal(run.code, 0)
    const diff = JSON.parse(run.stdout) as HeapDiff
    t.equal(diff.rows.length, 3)
    t.equal(diff.sortBy, 'countDelta')
    t.equal(diff.retainerPaths.length, 1)
    t.equal(diff.rows.find((row) => row.className === LEAK_CLASS)?.countDelta, 2000)
    t.ok(diff.classCount > 3)
  })

  t.test('--top 3 prints three rows, --paths 0 no paths; gzip input reads the same', async (t) => {
    const gzipped = await gzipFile(after, join(dir, 'after.heapsnapshot.gz'))
    const run = await cli(['diff', before, gzipped, '--top', '3', '--paths', '0'])
    t.equal(run.code, 0)
    t.equal(tableLines(run.stdout).length, 3)
    t.match(run.stdout, /\n… \d+ more classes/)
    t.notMatch(run.stdout, /Retainer paths/)
    const plain = await cli(['diff', before, after, '--top', '3', '--paths', '0'])
    t.equal(run.stdout.replace('after.heapsnapshot.gz', 'after.heapsnapshot'), plain.stdout)
  })

  t.test('progress goes to stderr on a terminal, and is wiped before the result', async (t) => {
    const run = await inProcess(['diff', before, after, '--paths', '0'], true)
    t.equal(run.code, 0)
    t.match(run.stderr, /^\rreading before snapshot \(before\.heapsnapshot\): \d+%/)
    t.ok(run.stderr.endsWith(`\rreading after snapshot (after.heapsnapshot): 100%${WIPE_LINE}`), 'ends at 100%, then wiped')
    t.equal(run.stdout, (await inProcess(['diff', before, after, '--paths', '0'], false)).stdout)
  })
})

t.test('progress in a log only for big files, one line per step', async (t) => {
  const dir = t.testdir()
  const big = join(dir, 'big.heapsnapshot')
  await writeFile(big, snapshotText(rootedGraph([{ type: 'object', name: 'Thing', id: 5, size: 24 }]), { extraStrings: ['x'.repeat(21 * 1024 * 1024)] }))
  const run = await inProcess(['diff', big, big], false)
  t.equal(run.code, 0)
  t.match(run.stderr, /^\rreading before snapshot \(big\.heapsnapshot\): \d+%.*\rreading after snapshot \(big\.heapsnapshot\): 100%\n$/s)
  const percents = [...run.stderr.matchAll(/(\d+)%/g)].map((match) => Number(match[1]))
  t.ok(percents.length > 2 && percents.every((percent) => percent % 10 === 0), `every 10%: ${percents.join(' ')}`)
})

t.test('a file that cannot be compared: one line on stderr, exit 1', async (t) => {
  const dir = t.testdir()
  const good = join(dir, 'good.heapsnapshot')
  const text = snapshotText(rootedGraph([{ type: 'object', name: 'Thing', id: 5, size: 24 }]))
  await writeFile(good, text)
  const files = {
    truncated: [text.slice(0, text.indexOf('"nodes":[') + 14), /truncated: expected 3 nodes, got 0/],
    empty: ['', /not a V8 heap snapshot: the file is empty/],
    json: [await readFile(join(ROOT, 'package.json'), 'utf8'), /not a V8 heap snapshot: its first key is "name", not "snapshot"/]
  } as const
  for (const [name, [content, message]] of Object.entries(files)) {
    const path = join(dir, `${name}.heapsnapshot`)
    await writeFile(path, content)
    const run = await cli(['diff', good, path])
    t.equal(run.code, 1, `${name}: exit 1`)
    t.equal(run.stdout, '', `${name}: nothing on stdout`)
    t.match(run.stderr, new RegExp(`^fastify-memory-diagnostics diff: ${path}: ${message.source}\\n$`), `${name}: says why`)
  }
  const missing = await cli(['diff', join(dir, 'missing.heapsnapshot'), good])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^fastify-memory-diagnostics diff: ENOENT: no such file or directory, open '.*missing\.heapsnapshot'\n$/)
  const onTerminal = await inProcess(['diff', good, join(dir, 'truncated.heapsnapshot')], true)
  t.equal(onTerminal.code, 1)
  t.ok(onTerminal.stderr.includes(`${WIPE_LINE}fastify-memory-diagnostics diff: ${join(dir, 'truncated.heapsnapshot')}: truncated`), 'the progress line is wiped first')
})

t.test('bad usage: exit 2 with the usage on stderr', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'a.heapsnapshot')
  await copyFile(join(ROOT, 'package.json'), file)
  const cases: [string[], RegExp][] = [
    [[], /^Missing command\./],
    [['compare', file, file], /^Unknown command "compare"\./],
    [['diff', file], /^diff needs two snapshot files\./],
    [['diff', file, file, file], /^Unexpected argument ".*a\.heapsnapshot"\./],
    [['diff', file, file, '--top', '0'], /^--top must be an integer >= 1, got "0"\./],
    [['diff', file, file, '--top', '2.5'], /^--top must be an integer >= 1, got "2.5"\./],
    [['diff', file, file, '--paths=-1'], /^--paths must be an integer >= 0, got "-1"\./],
    [['diff', file, file, '--sort', 'name'], /^--sort must be one of sizeDelta, countDelta, addedSize, addedCount\./],
    [['diff', file, file, '--colour'], /^Unknown option '--colour'/]
  ]
  for (const [args, message] of cases) {
    const run = await inProcess(args, false)
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, message, args.join(' '))
    t.match(run.stderr, /\n\nUsage: fastify-memory-diagnostics diff <before/)
    t.equal(run.stdout, '')
  }
  const child = await cli(['diff', file])
  t.equal(child.code, 2, 'the same from the real CLI')
  t.match(child.stderr, /^diff needs two snapshot files\.\n\nUsage: /)
})

t.test('--help prints the usage on stdout', async (t) => {
  for (const args of [['--help'], ['diff', '-h']]) {
    const run = await inProcess(args, false)
    t.equal(run.code, 0)
    t.match(run.stdout, /^Usage: fastify-memory-diagnostics diff <before\.heapsnapshot\[\.gz\]> <after\.heapsnapshot\[\.gz\]> \[options\]\n/)
    t.match(run.stdout, /--top N {6}show the N classes that grew most \(default 20\)/)
    t.equal(run.stderr, '')
  }
})

t.test('find-leaks over three snapshots', async (t) => {
  const dir = t.testdir()
  const files = await writeLeakSeries(dir, { snapshots: 3, perRound: 50, marks: true })
  const gzipped = await gzipFile(files[2] as string, join(dir, 'last.heapsnapshot.gz'))

  t.test('prints the candidates, the gzip file reads the same', async (t) => {
    const plain = await cli(['find-leaks', ...files])
    t.equal(plain.code, 0)
    t.equal(plain.stderr, '')
    t.match(plain.stdout, /^Snapshot 1: [\d,]+ nodes, pid \d+ {2}.*snap-0\.heapsnapshot\n/)
    t.match(plain.stdout, /\n\d+\. Visitor: 100 alive, retaining .+\n {3}per interval: \+50 \(.+\), \+50 \(.+\)\n {3}held by: Array {2}Object\.visitors → Array \(\d+ entries, retaining .+\)\n(?: {3}held in: .+\n)? {3}per request: 1\.00 per POST \/leak, 0 per GET \/ok\n/)
    const gz = await cli(['find-leaks', files[0] as string, files[1] as string, gzipped])
    t.equal(gz.code, 0)
    t.equal(gz.stdout, plain.stdout.replace(files[2] as string, gzipped))
  })

  t.test('--json prints the report; --top limits the candidates', async (t) => {
    const run = await cli(['find-leaks', ...files, '--json', '--top', '2'])
    t.equal(run.code, 0)
    const report = JSON.parse(run.stdout) as LeakReport
    t.equal(report.candidates.length, 2)
    t.same(Object.keys(report), ['snapshots', 'requestsPerInterval', 'notes', 'candidates'])
    const keys = Object.keys(report.candidates[0] ?? {})
    t.same(['bytesPerInterval', 'className', 'collection', 'countPerInterval', 'liveCount', 'objectClass', 'pathShape', 'perRoute', 'retainedBytes',
      'retainerPath', 'sampleId'].filter((key) => !keys.includes(key)), [], 'every field a candidate always has')
    t.same(keys.filter((key) => !['bytesPerInterval', 'className', 'collection', 'countPerInterval', 'liveCount', 'objectClass', 'pathShape', 'perRoute',
      'retainedBytes', 'retainerPath', 'sampleId', 'carrier', 'drags', 'entryParts', 'classFile', 'holder', 'packageName', 'perRouteNote'].includes(key)), [],
    'and only the optional ones besides')
  })

  t.test('bad input: exit 1 for a file, 2 for usage', async (t) => {
    const missing = await cli(['find-leaks', files[0] as string, join(dir, 'missing.heapsnapshot')])
    t.equal(missing.code, 1)
    t.match(missing.stderr, /^fastify-memory-diagnostics find-leaks: ENOENT: no such file or directory, open '.*missing\.heapsnapshot'\n$/)
    const truncated = join(dir, 'truncated.heapsnapshot')
    await writeFile(truncated, (await readFile(files[1] as string, 'utf8')).slice(0, 5000))
    const cut = await cli(['find-leaks', truncated, files[2] as string])
    t.equal(cut.code, 1)
    t.match(cut.stderr, /^fastify-memory-diagnostics find-leaks: .*truncated\.heapsnapshot: truncated/)
    for (const [args, message] of [
      [['find-leaks', files[0] as string], /^find-leaks needs two snapshot files or more/],
      [['find-leaks', ...files, '--sort', 'countDelta'], /^--sort is an option of diff, not find-leaks\./],
      [['find-leaks', ...files, '--min', '0'], /^--min must be an integer >= 1, got "0"\./],
      [['diff', ...files.slice(0, 2), '--min', '2'], /^--min is an option of find-leaks, not diff\./],
      [['find-leaks', ...files, '--retained'], /^--retained is an option of diff; find-leaks always computes retained sizes\./]
    ] as const) {
      const run = await inProcess(args, false)
      t.equal(run.code, 2, args.join(' '))
      t.match(run.stderr, message)
      t.match(run.stderr, /\nUsage: fastify-memory-diagnostics find-leaks </)
    }
  })

  t.test('--fail-on: exit 1 when a candidate keeps more objects per request of a route, 0 below, 2 when it cannot judge', async (t) => {
    const failing = await inProcess(['find-leaks', ...files, '--fail-on', '0.5'], false)
    t.equal(failing.code, 1, 'Visitor: 1 per POST /leak, above 0.5')
    t.match(failing.stdout, /\n\d+\. Visitor: 100 alive/, 'the report is printed as without the option')
    t.match(failing.stderr, /^fastify-memory-diagnostics find-leaks: .*Visitor grows 1\.00 objects per request of POST \/leak, above --fail-on 0\.5/)
    t.notMatch(failing.stderr, /GET \/ok/, 'the route that keeps nothing is not blamed')
    const passing = await inProcess(['find-leaks', ...files, '--fail-on', '3'], false)
    t.equal(passing.code, 0, 'nothing keeps more than 3 per request')
    t.equal(passing.stderr, '')
    const unmarked = await writeLeakSeries(dir, { snapshots: 3, perRound: 20, prefix: 'unmarked' })
    const blind = await inProcess(['find-leaks', ...unmarked, '--fail-on', '0.5'], false)
    t.equal(blind.code, 2, 'snapshots without request counts cannot be judged per request')
    t.match(blind.stderr, /--fail-on needs request counts in every snapshot/)
    for (const value of ['0', '-1', 'many', '1e3']) {
      const bad = await inProcess(['find-leaks', ...files, `--fail-on=${value}`], false)
      t.equal(bad.code, 2, `--fail-on ${value}`)
      t.match(bad.stderr, /^--fail-on must be a number of objects per request > 0/)
    }
    const onDiff = await inProcess(['diff', ...files.slice(0, 2), '--fail-on', '1'], false)
    t.equal(onDiff.code, 2)
    t.match(onDiff.stderr, /^--fail-on is an option of find-leaks, not diff\./)
  })

  t.test('progress names each snapshot on a terminal', async (t) => {
    const run = await inProcess(['find-leaks', ...files], true)
    t.equal(run.code, 0)
    t.match(run.stderr, /^\rreading snapshot 1 of 3 \(snap-0\.heapsnapshot\): \d+%/)
    t.ok(run.stderr.endsWith(`\rreading snapshot 3 of 3 (snap-2.heapsnapshot): 100%${WIPE_LINE}`))
  })
})
