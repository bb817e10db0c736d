import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { chmod, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { createGzip } from 'node:zlib'
import t from 'tap'
import { main } from '../../analysis/cli.js'
import type { HeapDiff } from '../../analysis/diff.js'
import type { LeakReport } from '../../analysis/find-leaks.js'
import { pack } from 'tar-stream'
import { incidentArchive } from '../../plugin/incident/bundle.js'
import type { EvidenceFile } from '../../plugin/incident/bundle.js'
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

// Root reads a file whatever its mode: to meet a file it may not read, the CLI runs as nobody
// (in this process: a child would carry tap's process tracking, which writes where nobody may not).
const NOBODY = 65534
async function unprivileged (args: readonly string[]): Promise<Run> {
  if (process.geteuid?.() !== 0) return await inProcess(args, false)
  process.setegid?.(NOBODY)
  process.seteuid?.(NOBODY)
  try {
    return await inProcess(args, false)
  } finally {
    process.seteuid?.(0)
    process.setegid?.(0)
  }
}

/**
 * `locked`, a copy of `file` no one but root may read, and `file` and its directory opened to all
 * (V8 writes snapshots 0600): so `unprivileged(args)` reads the one and not the other.
 */
async function lockedCopy (file: string, locked: string): Promise<string> {
  await copyFile(file, locked)
  await chmod(locked, 0o000)
  await chmod(file, 0o644)
  for (let dir = join(file, '..'); dir.startsWith(ROOT) && dir !== ROOT; dir = join(dir, '..')) {
    await chmod(dir, (await stat(dir)).mode | 0o005)
  }
  return locked
}

/** A real incident bundle (the plugin's own archive): a summary, and these files under files/. */
async function writeBundle (path: string, files: readonly string[], summary = '# Memory incident: pid 4242\n\n## Leak candidates\n\nsee the files\n'): Promise<string> {
  const evidence: EvidenceFile[] = await Promise.all(files.map(async (file) => ({
    name: basename(file),
    path: file,
    bytes: (await stat(file)).size,
    kind: 'heap-snapshot' as const,
    writtenAt: new Date().toISOString()
  })))
  await pipeline(incidentArchive(summary, { 'process.json': { pid: 4242 } }, evidence), createWriteStream(path))
  return path
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

t.test('a file that cannot be compared: one line on stderr naming it, exit 2', async (t) => {
  const dir = t.testdir()
  const good = join(dir, 'good.heapsnapshot')
  const text = snapshotText(rootedGraph([{ type: 'object', name: 'Thing', id: 5, size: 24 }]))
  await writeFile(good, text)
  const gzipped = await gzipFile(good, join(dir, 'good.heapsnapshot.gz'))
  const zipped = await readFile(gzipped)
  const files = {
    truncated: [text.slice(0, text.indexOf('"nodes":[') + 14), /truncated: expected 3 nodes, got 0/],
    empty: ['', /not a V8 heap snapshot: the file is empty/],
    json: [await readFile(join(ROOT, 'package.json'), 'utf8'), /not a V8 heap snapshot: its first key is "name", not "snapshot"/],
    'cut-gzip': [zipped.subarray(0, zipped.length - 12), /truncated: the gzip stream ends early \(unexpected end of file\)/],
    'broken-gzip': [Buffer.concat([zipped.subarray(0, 2), Buffer.from('not deflate data')]), /not a V8 heap snapshot: broken gzip data \(.+\)/]
  } as const
  for (const [name, [content, message]] of Object.entries(files)) {
    const path = join(dir, `${name}.heapsnapshot`)
    await writeFile(path, content)
    const run = await cli(['diff', good, path])
    t.equal(run.code, 2, `${name}: exit 2`)
    t.equal(run.stdout, '', `${name}: nothing on stdout`)
    t.match(run.stderr, new RegExp(`^fastify-memory-diagnostics diff: ${path}: ${message.source}\\n$`), `${name}: says why`)
  }
  const missing = await cli(['diff', join(dir, 'missing.heapsnapshot'), good])
  t.equal(missing.code, 2, 'a missing file: exit 2')
  t.match(missing.stderr, /^fastify-memory-diagnostics diff: ENOENT: no such file or directory, open '.*missing\.heapsnapshot'\n$/)
  const locked = await lockedCopy(good, join(dir, 'locked.heapsnapshot'))
  const denied = await unprivileged(['diff', good, locked])
  t.equal(denied.code, 2, 'a file it may not read: exit 2')
  t.match(denied.stderr, /^fastify-memory-diagnostics diff: EACCES: permission denied, open '.*locked\.heapsnapshot'\n$/)
  const folder = join(dir, 'folder.heapsnapshot')
  await mkdir(folder)
  const directory = await cli(['diff', good, folder])
  t.equal(directory.code, 2, 'a directory: exit 2')
  t.equal(directory.stderr, `fastify-memory-diagnostics diff: ${folder}: a directory, not a file\n`)
  const onTerminal = await inProcess(['diff', good, join(dir, 'truncated.heapsnapshot')], true)
  t.equal(onTerminal.code, 2)
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

t.test('--help prints the usage on stdout, with the exit codes', async (t) => {
  for (const args of [['--help'], ['diff', '-h'], ['report', '--help']]) {
    const run = await inProcess(args, false)
    t.equal(run.code, 0)
    t.match(run.stdout, /^Usage: fastify-memory-diagnostics diff <before\.heapsnapshot\[\.gz\]> <after\.heapsnapshot\[\.gz\]> \[options\]\n/)
    t.match(run.stdout, /--top N {6}show the N classes that grew most \(default 20\)/)
    t.match(run.stdout, /\nExit status \(every command\):\n {2}0 {2}done; .*\n {2}1 {2}find-leaks --fail-on N: a candidate keeps more than N objects per request\n.*\n {2}2 {2}trouble, no answer: bad usage/)
    t.equal(run.stderr, '')
  }
})

t.test('an error of our own: exit 2, named a bug, its stack with DEBUG set', async (t) => {
  const dir = t.testdir()
  const { before, after } = await writeLeakSnapshots(dir, LEAK_CLASS, 10)
  const debug = process.env.DEBUG
  t.teardown(() => { if (debug === undefined) delete process.env.DEBUG; else process.env.DEBUG = debug })
  // A stdout whose write throws a TypeError stands for a bug anywhere in the command.
  const broken = async (): Promise<Run> => {
    let stderr = ''
    const code = await main(['diff', before, after], {
      stdout: { write: () => { throw new TypeError('Cannot read properties of undefined (reading \'rows\')') } },
      stderr: { write: (text: string) => { stderr += text } }
    })
    return { code, stdout: '', stderr }
  }
  delete process.env.DEBUG
  const quiet = await broken()
  t.equal(quiet.code, 2)
  t.equal(quiet.stderr, 'fastify-memory-diagnostics diff: internal error: Cannot read properties of undefined (reading \'rows\')\n' +
    'This is a bug of fastify-memory-diagnostics: run again with DEBUG=1 for its stack, and report it.\n')
  process.env.DEBUG = '1'
  const loud = await broken()
  t.equal(loud.code, 2)
  t.match(loud.stderr, /^fastify-memory-diagnostics diff: internal error: Cannot read properties of undefined \(reading 'rows'\)\nTypeError: Cannot read .*\n {4}at .*cli\.test\.ts/)
  const input = await inProcess(['diff', before, join(dir, 'missing.heapsnapshot')], false)
  t.match(input.stderr, /^fastify-memory-diagnostics diff: ENOENT: .*\nError: ENOENT: .*\n {4}at /, 'with DEBUG set, the stack of any error')
  t.notMatch(input.stderr, /internal error|a bug/, 'a missing file is no bug')
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

  t.test('bad input: exit 2, for a file as for usage', async (t) => {
    const missing = await cli(['find-leaks', files[0] as string, join(dir, 'missing.heapsnapshot')])
    t.equal(missing.code, 2)
    t.match(missing.stderr, /^fastify-memory-diagnostics find-leaks: ENOENT: no such file or directory, open '.*missing\.heapsnapshot'\n$/)
    const alone = await cli(['find-leaks', join(dir, 'missing.heapsnapshot')])
    t.equal(alone.code, 2, 'one missing file')
    t.match(alone.stderr, /^fastify-memory-diagnostics find-leaks: ENOENT: no such file or directory, open '.*missing\.heapsnapshot'\n$/, 'named missing, not "needs two files"')
    const truncated = join(dir, 'truncated.heapsnapshot')
    await writeFile(truncated, (await readFile(files[1] as string, 'utf8')).slice(0, 5000))
    const cut = await cli(['find-leaks', truncated, files[2] as string])
    t.equal(cut.code, 2)
    t.match(cut.stderr, /^fastify-memory-diagnostics find-leaks: .*truncated\.heapsnapshot: truncated/)
    const zipped = await readFile(gzipped)
    const cutGzip = join(dir, 'cut.heapsnapshot.gz')
    await writeFile(cutGzip, zipped.subarray(0, zipped.length >> 1))
    const cutZip = await cli(['find-leaks', files[0] as string, files[1] as string, cutGzip])
    t.equal(cutZip.code, 2, 'a cut gzip file')
    t.equal(cutZip.stderr, `fastify-memory-diagnostics find-leaks: ${cutGzip}: truncated: the gzip stream ends early (unexpected end of file)\n`)
    const notes = join(dir, 'notes.txt')
    await writeFile(notes, 'not a snapshot\n')
    const other = await cli(['find-leaks', files[0] as string, notes])
    t.equal(other.code, 2, 'not a snapshot')
    t.equal(other.stderr, `fastify-memory-diagnostics find-leaks: ${notes} is neither a V8 heap snapshot nor a sampling heap profile\n`)
    const locked = await lockedCopy(files[2] as string, join(dir, 'locked.heapsnapshot'))
    await chmod(files[0] as string, 0o644)
    const denied = await unprivileged(['find-leaks', files[0] as string, locked])
    t.equal(denied.code, 2, 'a file it may not read')
    t.match(denied.stderr, /^fastify-memory-diagnostics find-leaks: EACCES: permission denied, open '.*locked\.heapsnapshot'\n$/)
    for (const [args, message] of [
      [['find-leaks', files[0] as string], /^find-leaks needs two snapshot files or more/],
      [['find-leaks', ...files, '--sort', 'countDelta'], /^--sort is an option of diff, not find-leaks\./],
      [['find-leaks', ...files, '--min', '0'], /^--min must be an integer >= 1, got "0"\./],
      [['find-leaks', ...files, '--top', 'ten'], /^--top must be an integer >= 1, got "ten"\./],
      [['find-leaks', ...files, '--fail-on'], /^Option '--fail-on <value>' argument missing/],
      [['find-leaks', ...files, '--verbose'], /^Unknown option '--verbose'/],
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

  t.test('--fail-on: a broken pipeline exits 2, never 1, which says "leak"', async (t) => {
    const missing = await cli(['find-leaks', files[0] as string, files[1] as string, join(dir, 'gone.heapsnapshot'), '--fail-on', '0.5'])
    t.equal(missing.code, 2, 'a missing file')
    t.equal(missing.stdout, '', 'no report')
    t.match(missing.stderr, /^fastify-memory-diagnostics find-leaks: ENOENT: no such file or directory, open '.*gone\.heapsnapshot'\n$/)
    const cut = join(dir, 'cut-fail-on.heapsnapshot')
    await writeFile(cut, (await readFile(files[2] as string)).subarray(0, 100_000))
    const truncated = await cli(['find-leaks', files[0] as string, files[1] as string, cut, '--fail-on', '0.5'])
    t.equal(truncated.code, 2, 'a truncated file')
    t.match(truncated.stderr, /^fastify-memory-diagnostics find-leaks: .*cut-fail-on\.heapsnapshot: truncated: expected \d+ /)
    const leak = await cli(['find-leaks', ...files, '--fail-on', '0.5'])
    t.equal(leak.code, 1, 'the same files whole: the leak, from the real CLI')
    t.match(leak.stderr, /^fastify-memory-diagnostics find-leaks: .*Visitor grows 1\.00 objects per request of POST \/leak, above --fail-on 0\.5.*\n$/)
  })

  t.test('progress names each snapshot on a terminal', async (t) => {
    const run = await inProcess(['find-leaks', ...files], true)
    t.equal(run.code, 0)
    t.match(run.stderr, /^\rreading snapshot 1 of 3 \(snap-0\.heapsnapshot\): \d+%/)
    t.ok(run.stderr.endsWith(`\rreading snapshot 3 of 3 (snap-2.heapsnapshot): 100%${WIPE_LINE}`))
  })
})

t.test('report on an incident bundle: 0 rendered, 2 for a file that is none', async (t) => {
  const dir = t.testdir()
  const files = await writeLeakSeries(dir, { snapshots: 3, perRound: 20, marks: true, prefix: 'bundled' })
  const bundle = await writeBundle(join(dir, 'incident.tar.gz'), files)

  const done = await cli(['report', bundle])
  t.equal(done.code, 0, done.stderr)
  t.equal(done.stderr, '')
  t.match(done.stdout, /^# Memory incident: pid 4242\n\n## Leak candidates\n\n```\n[\s\S]*\d+\. Visitor: 40 alive/, 'find-leaks\' answer on the bundled snapshots')

  const trouble = async (name: string, path: string, message: RegExp): Promise<void> => {
    const run = await cli(['report', path])
    t.equal(run.code, 2, `${name}: exit 2`)
    t.equal(run.stdout, '', `${name}: nothing on stdout`)
    t.match(run.stderr, message, `${name}: says why`)
  }
  await trouble('missing', join(dir, 'missing.tar.gz'), /^fastify-memory-diagnostics report: ENOENT: no such file or directory, open '.*missing\.tar\.gz'\n$/)
  const plain = join(dir, 'plain.tar.gz')
  await copyFile(files[0] as string, plain)
  await trouble('not gzip', plain, /^fastify-memory-diagnostics report: .*plain\.tar\.gz: not a complete incident bundle \(\.tar\.gz of GET \/incident\): incorrect header check\n$/)
  const whole = await readFile(bundle)
  const cut = join(dir, 'cut.tar.gz')
  await writeFile(cut, whole.subarray(0, whole.length >> 1))
  await trouble('truncated', cut, /^fastify-memory-diagnostics report: .*cut\.tar\.gz: not a complete incident bundle \(\.tar\.gz of GET \/incident\): unexpected end of file\n$/)
  const notTar = await gzipFile(files[0] as string, join(dir, 'snapshot.tar.gz'))
  await trouble('gzip, not tar', notTar, /^fastify-memory-diagnostics report: .*snapshot\.tar\.gz: not a complete incident bundle \(\.tar\.gz of GET \/incident\): Invalid tar header/)
  const archive = pack()
  archive.entry({ name: 'notes.txt' }, 'no summary here\n')
  archive.finalize()
  const other = join(dir, 'other.tar.gz')
  await pipeline(archive, createGzip(), createWriteStream(other))
  await trouble('another archive', other, /^fastify-memory-diagnostics report: .*other\.tar\.gz has no summary\.md: is it an incident bundle \(GET \/incident\)\?\n$/)
  const truncatedSnapshot = join(dir, 'truncated', basename(files[2] as string))
  await mkdir(join(dir, 'truncated'))
  await writeFile(truncatedSnapshot, (await readFile(files[2] as string)).subarray(0, 100_000))
  const holdingCut = await writeBundle(join(dir, 'holding-cut.tar.gz'), [files[0] as string, files[1] as string, truncatedSnapshot])
  await trouble('a truncated snapshot inside', holdingCut, /^fastify-memory-diagnostics report: .*bundled-2\.heapsnapshot: truncated: expected \d+ nodes/)
  const folder = join(dir, 'folder.tar.gz')
  await mkdir(folder)
  await trouble('a directory', folder, /^fastify-memory-diagnostics report: .*folder\.tar\.gz: a directory, not a file\n$/)
  const locked = await lockedCopy(bundle, join(dir, 'locked.tar.gz'))
  const denied = await unprivileged(['report', locked])
  t.equal(denied.code, 2, 'unreadable: exit 2')
  t.match(denied.stderr, /^fastify-memory-diagnostics report: EACCES: permission denied, open '.*locked\.tar\.gz'\n$/)

  for (const [args, message] of [
    [['report'], /^report needs one incident bundle \(\.tar\.gz from GET \/incident\)\./],
    [['report', bundle, bundle], /^report needs one incident bundle/],
    [['report', bundle, '--top', '3'], /^--top is an option of diff and find-leaks, not report\./],
    [['report', bundle, '--json'], /^--json is an option of diff and find-leaks, not report\./],
    [['report', bundle, '--colour'], /^Unknown option '--colour'/]
  ] as const) {
    const run = await inProcess(args, false)
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, message, args.join(' '))
    t.match(run.stderr, /\n\nUsage: fastify-memory-diagnostics diff </)
  }
})
