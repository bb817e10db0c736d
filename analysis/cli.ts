#!/usr/bin/env node
import { realpathSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect, parseArgs } from 'node:util'
import { diffHeapSnapshots } from './diff.js'
import { fileKind } from './file-kind.js'
import { findGrowingSites } from './heap-profile/find-growing-sites.js'
import { formatGrowingSites } from './heap-profile/format-growing-sites.js'
import type { HeapDiffSortKey } from './diff.js'
import { findLeaks } from './find-leaks.js'
import type { LeakReport } from './find-leaks.js'
import { formatHeapDiff } from './format.js'
import { formatLeakReport } from './format-leaks.js'
import { renderIncidentReport } from './incident-report.js'
import type { ReadProgress } from './read-snapshot.js'

/** Where the CLI writes; `process` by default, a fake in tests. */
export interface CliStreams {
  readonly stdout: { write: (text: string) => unknown }
  readonly stderr: { write: (text: string) => unknown, readonly isTTY?: boolean }
}

const DEFAULT_TOP = 20
const DEFAULT_CANDIDATES = 10
const DEFAULT_PATHS = 3
// report takes none of them.
const OPTIONS_OF = { json: 'diff and find-leaks', top: 'diff and find-leaks', paths: 'diff', sort: 'diff', retained: 'diff', min: 'find-leaks', 'fail-on': 'find-leaks' } as const
const SORT_KEYS: readonly string[] = ['sizeDelta', 'countDelta', 'addedSize', 'addedCount']
// Smaller files are read in about a second: a progress line would only flicker in a log.
const PROGRESS_MIN_BYTES = 20 * 1024 * 1024

/** The exit codes, as grep's and diff's: what a CI script can tell apart. */
const EXIT_DONE = 0
/** find-leaks --fail-on: a candidate keeps more objects per request of a route than allowed. */
const EXIT_LEAK = 1
/** Bad usage, a file that cannot be read or judged, or a bug of ours: no answer. */
const EXIT_TROUBLE = 2

const ONE_SNAPSHOT = 'find-leaks needs two snapshot files or more (three or more make it surer), or one heap profile or more.'

const USAGE = `Usage: fastify-memory-diagnostics diff <before.heapsnapshot[.gz]> <after.heapsnapshot[.gz]> [options]

Compares two V8 heap snapshots of the same process as the Comparison view of
Chrome DevTools does: objects grouped by constructor, matched by object id,
with the shortest retainer path to a new object of the classes that grew most.

Options:
  --top N      show the N classes that grew most (default ${DEFAULT_TOP})
  --sort KEY   sizeDelta (default), countDelta, addedSize or addedCount
  --paths N    retainer paths for the N top growing classes (default ${DEFAULT_PATHS}, 0 for none)
  --retained   add what the new objects of each class retain (dominator tree; slower)
  --json       print the comparison as JSON
  -h, --help   show this help

Usage: fastify-memory-diagnostics find-leaks <a.heapsnapshot[.gz]> <b.heapsnapshot[.gz]> [<c> ...] [options]

Names leak candidates across snapshots of one process taken under the same load
(take A, apply load, take B, apply load, take C): objects allocated in each
interval and still alive in the last snapshot, grouped by class and by the path
that retains them, kept when they grew in every interval, with their retained
size, what they drag (new objects of other classes alive only because they hold
them, counted in that size), the collection that holds them and the requests of
each route per object (when the snapshots were taken through the plugin). Three
snapshots or more rule out objects that were only in flight.

Options:
  --top N      show the N first candidates (default ${DEFAULT_CANDIDATES})
  --min N      a candidate needs N new objects alive from every interval (default 1)
  --json       print the report as JSON
  --fail-on N  exit 1 when a candidate keeps more than N objects per request of a
               route (needs snapshots taken through the plugin, which carry request
               counts); for CI scripts
  -h, --help   show this help

Usage: fastify-memory-diagnostics find-leaks <a.heapprofile[.gz]> [<b> <c> ...] [options]

The same command on sampling heap profiles (GET /heap-profile; told from
snapshots by their content): the allocation sites whose live bytes grew in
every interval, most growth first, each with its stack and the route whose
handler is on it, per request. One profile shows live bytes by site since
sampling began, which cannot tell growth.

Options: --top N, --json

Snapshots and profiles of one process given together (in any order): the
snapshots' report, each candidate with the growing allocation site that made
its objects when the profiles tell it ("allocated by:").

Usage: fastify-memory-diagnostics report <incident.tar.gz>

Renders an incident bundle (GET /incident) offline: its summary.md, with the
find-leaks answer on the snapshots (or profiles) inside it when there are two
or more (GET /incident?files=true).

Exit status (every command):
  0  done; for find-leaks --fail-on N, no candidate above N
  1  find-leaks --fail-on N: a candidate keeps more than N objects per request
     of a route (the report is printed all the same)
  2  trouble, no answer: bad usage (unknown command or option, bad number), a
     file missing, unreadable, truncated or not a complete snapshot, profile or
     bundle, snapshots --fail-on cannot judge, or an internal error (DEBUG=1
     prints its stack)
`

interface DiffCommand {
  readonly name: 'diff'
  readonly before: string
  readonly after: string
  readonly json: boolean
  readonly top: number
  readonly paths: number
  readonly sortBy: HeapDiffSortKey
  readonly retained: boolean
}

interface FindLeaksCommand {
  readonly name: 'find-leaks'
  readonly files: string[]
  readonly json: boolean
  readonly top: number
  readonly min: number
  readonly minGiven: boolean
  /** Objects per request above which the command exits 1. */
  readonly failOn: number | null
}

interface ReportCommand {
  readonly name: 'report'
  readonly bundle: string
}

type Command = DiffCommand | FindLeaksCommand | ReportCommand | { readonly name: 'help' }

/**
 * `fastify-memory-diagnostics diff before after`, `find-leaks a b [c ...]` or `report bundle`.
 * Returns the exit code: 0 done, 1 a leak past `--fail-on` (find-leaks), 2 trouble: bad usage, a
 * file that cannot be read or is not a complete snapshot, profile or bundle, snapshots `--fail-on`
 * cannot judge, or an error of our own (whose stack `DEBUG=1` prints).
 */
export async function main (argv: readonly string[], streams: CliStreams = process): Promise<number> {
  let command: Command
  try {
    command = parseCommand(argv)
  } catch (err) {
    streams.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    return EXIT_TROUBLE
  }
  if (command.name === 'help') {
    streams.stdout.write(USAGE)
    return EXIT_DONE
  }
  const progress = new ProgressLine(streams.stderr)
  try {
    await refuseDirectories(command.name === 'report' ? [command.bundle] : command.name === 'diff' ? [command.before, command.after] : command.files)
    // one file is a usage error, unless it is a heap profile (which says what one can tell)
    if (command.name === 'find-leaks' && command.files.length === 1 && await fileKind(command.files[0]!) !== 'heap-profile') {
      streams.stderr.write(`${ONE_SNAPSHOT}\n\n${USAGE}`)
      return EXIT_TROUBLE
    }
    const { text, exitCode, problem } = await run(command, progress)
    streams.stdout.write(text)
    if (problem !== undefined) streams.stderr.write(`fastify-memory-diagnostics ${command.name}: ${problem}\n`)
    return exitCode
  } catch (err) {
    progress.clear()
    streams.stderr.write(troubleText(command.name, err))
    return EXIT_TROUBLE
  }
}

/**
 * Why a command gave no answer, for stderr: one line, as grep and diff say it. An error no input
 * should cause (a TypeError or ReferenceError: a bug of ours) says so; `DEBUG` set (to anything)
 * adds the stack, with the error's cause and code, for any error.
 */
function troubleText (command: string, err: unknown): string {
  const bug = isBug(err)
  const message = err instanceof Error ? err.message : String(err)
  const line = `fastify-memory-diagnostics ${command}: ${bug ? 'internal error: ' : ''}${message}\n`
  if (process.env.DEBUG !== undefined && process.env.DEBUG !== '') return `${line}${inspect(err)}\n`
  return bug ? `${line}This is a bug of fastify-memory-diagnostics: run again with DEBUG=1 for its stack, and report it.\n` : line
}

/** What no input should throw: our own mistake. */
function isBug (err: unknown): boolean {
  return !(err instanceof Error) || err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError
}

interface Outcome {
  readonly text: string
  readonly exitCode: number
  /** Why the exit code is not 0, for stderr. */
  readonly problem?: string
}

async function run (command: DiffCommand | FindLeaksCommand | ReportCommand, progress: ProgressLine): Promise<Outcome> {
  if (command.name === 'report') return { text: await runReport(command.bundle), exitCode: EXIT_DONE }
  return command.name === 'diff' ? { text: await runDiff(command, progress), exitCode: EXIT_DONE } : await runFindLeaks(command, progress)
}

/** A directory given for a file: named here, where a read would only say EISDIR. */
async function refuseDirectories (files: readonly string[]): Promise<void> {
  for (const file of files) {
    if ((await stat(file).catch(() => null))?.isDirectory() === true) throw new Error(`${file}: a directory, not a file`)
  }
}

/** The rendered bundle; what gunzip or untar says of a file that is no bundle names the file. */
async function runReport (bundle: string): Promise<string> {
  try {
    return await renderIncidentReport(bundle)
  } catch (err) {
    if (!(err instanceof Error) || isBug(err) || err.message.includes(bundle)) throw err
    throw new Error(`${bundle}: not a complete incident bundle (.tar.gz of GET /incident): ${err.message}`, { cause: err })
  }
}

async function runDiff (command: DiffCommand, progress: ProgressLine): Promise<string> {
  const diff = await diffHeapSnapshots(command.before, command.after, {
    top: command.top,
    retainerPaths: command.paths,
    sortBy: command.sortBy,
    retainedSizes: command.retained,
    onProgress: (p) => progress.update(`${p.snapshot} snapshot`, p.file, p)
  })
  progress.clear()
  return command.json ? `${JSON.stringify(diff, null, 2)}\n` : formatHeapDiff(diff)
}

async function runFindLeaks (command: FindLeaksCommand, progress: ProgressLine): Promise<Outcome> {
  const { snapshots, profiles } = await filesByKind(command.files)
  if (snapshots.length === 0) {
    if (command.minGiven) throw new Error('--min counts snapshot objects: it is no option for heap profiles')
    if (command.failOn !== null) throw new Error('--fail-on counts snapshot objects per request: it is no option for heap profiles')
    const report = await findGrowingSites(command.files, { top: command.top })
    return { text: command.json ? `${JSON.stringify(report, null, 2)}\n` : formatGrowingSites(report), exitCode: EXIT_DONE }
  }
  if (snapshots.length === 1) throw new Error('find-leaks needs two snapshot files or more beside heap profiles (the profiles then tell where the candidates were allocated); got one snapshot.')
  const report = await findLeaks(snapshots, {
    top: command.top,
    minPerInterval: command.min,
    ...(profiles.length === 0 ? {} : { profiles }),
    onProgress: (p) => progress.update(`snapshot ${p.index + 1} of ${snapshots.length}`, p.file, p)
  })
  progress.clear()
  const text = command.json ? `${JSON.stringify(report, null, 2)}\n` : formatLeakReport(report)
  if (command.failOn === null) return { text, exitCode: EXIT_DONE }
  if (report.requestsPerInterval === undefined) {
    throw new Error('--fail-on needs request counts in every snapshot (snapshots taken through the plugin\'s POST /heap-snapshot, of one process)')
  }
  const over = overLimit(report, command.failOn)
  return over.length === 0
    ? { text, exitCode: EXIT_DONE }
    : { text, exitCode: EXIT_LEAK, problem: over.map((o) => `${o.className} grows ${o.perRequest.toFixed(2)} objects per request of ${o.route}, above --fail-on ${command.failOn}`).join('; ') }
}

function parseCommand (argv: readonly string[]): Command {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      top: { type: 'string' },
      paths: { type: 'string' },
      sort: { type: 'string' },
      min: { type: 'string' },
      'fail-on': { type: 'string' },
      retained: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  const [name, ...files] = positionals
  if (values.help) return { name: 'help' }
  if (name === 'find-leaks') {
    if (files.length === 0) throw new Error(ONE_SNAPSHOT)
    for (const option of ['paths', 'sort'] as const) {
      if (values[option] !== undefined) throw new Error(`--${option} is an option of diff, not find-leaks.`)
    }
    if (values.retained) throw new Error('--retained is an option of diff; find-leaks always computes retained sizes.')
    return {
      name,
      files,
      json: values.json,
      top: parseCount(values.top, DEFAULT_CANDIDATES, '--top', 1),
      min: parseCount(values.min, 1, '--min', 1),
      minGiven: values.min !== undefined,
      failOn: parseRate(values['fail-on'], '--fail-on')
    }
  }
  if (name === 'report') {
    if (files.length !== 1) throw new Error('report needs one incident bundle (.tar.gz from GET /incident).')
    for (const [option, of] of Object.entries(OPTIONS_OF)) {
      const value = values[option as keyof typeof OPTIONS_OF]
      if (value !== undefined && value !== false) throw new Error(`--${option} is an option of ${of}, not report.`)
    }
    return { name, bundle: files[0]! }
  }
  if (name !== 'diff') throw new Error(name === undefined ? 'Missing command.' : `Unknown command "${name}".`)
  const [before, after, ...extra] = files
  if (before === undefined || after === undefined) throw new Error('diff needs two snapshot files.')
  if (extra.length > 0) throw new Error(`Unexpected argument "${extra[0]}".`)
  for (const option of ['min', 'fail-on'] as const) {
    if (values[option] !== undefined) throw new Error(`--${option} is an option of find-leaks, not diff.`)
  }
  const sort = values.sort ?? 'sizeDelta'
  if (!SORT_KEYS.includes(sort)) throw new Error(`--sort must be one of ${SORT_KEYS.join(', ')}.`)
  return {
    name,
    before,
    after,
    json: values.json,
    top: parseCount(values.top, DEFAULT_TOP, '--top', 1),
    paths: parseCount(values.paths, DEFAULT_PATHS, '--paths', 0),
    sortBy: sort as HeapDiffSortKey,
    retained: values.retained
  }
}

/** The snapshots and the heap profiles among the files, told by their content, each in the order given. */
async function filesByKind (files: readonly string[]): Promise<{ snapshots: string[], profiles: string[] }> {
  const kinds = await Promise.all(files.map(async (file) => [file, await fileKind(file)] as const))
  const unknown = kinds.find(([, kind]) => kind === null)
  if (unknown !== undefined) throw new Error(`${unknown[0]} is neither a V8 heap snapshot nor a sampling heap profile`)
  return {
    snapshots: kinds.filter(([, kind]) => kind === 'heap-snapshot').map(([file]) => file),
    profiles: kinds.filter(([, kind]) => kind === 'heap-profile').map(([file]) => file)
  }
}

function parseCount (text: string | undefined, fallback: number, name: string, min: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${text}".`)
  return value
}

function parseRate (text: string | undefined, name: string): number | null {
  if (text === undefined) return null
  const value = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > 0)) throw new Error(`${name} must be a number of objects per request > 0, got "${text}".`)
  return value
}

/**
 * The candidates that keep more than `limit` objects per request of a route. Where the intervals
 * could not tell the routes apart (ambiguous shares: each is what that route would keep alone),
 * the smallest of those figures is used: what the route with most requests would keep alone, so
 * that a busy route running beside a leak does not fail the gate on the leak's account.
 */
function overLimit (report: LeakReport, limit: number): Array<{ className: string, route: string, perRequest: number }> {
  const over: Array<{ className: string, route: string, perRequest: number }> = []
  for (const candidate of report.candidates) {
    if (candidate.pluginState === true) continue
    const shares = candidate.perRoute ?? []
    const certain = shares.filter((share) => !share.ambiguous)
    const ambiguous = shares.filter((share) => share.ambiguous)
    // What the counts cannot tell is judged by its least figure: whichever of them leaks, it leaks that much at least.
    const judged = certain.some((share) => share.objectsPerRequest > 0) || ambiguous.length === 0
      ? certain
      : [ambiguous.reduce((least, share) => (share.objectsPerRequest < least.objectsPerRequest ? share : least))]
    for (const share of judged) {
      if (share.objectsPerRequest > limit) over.push({ className: candidate.className, route: share.route, perRequest: share.objectsPerRequest })
    }
  }
  return over
}

/** One line on stderr, rewritten as the files are read: "reading after snapshot (b.heapsnapshot): 42%". */
class ProgressLine {
  readonly #stream: CliStreams['stderr']
  #last = ''

  constructor (stream: CliStreams['stderr']) {
    this.#stream = stream
  }

  /** `what`: "after snapshot", "snapshot 2 of 3". */
  update (what: string, file: string, progress: ReadProgress): void {
    const terminal = this.#stream.isTTY === true
    if (!terminal && progress.totalBytes < PROGRESS_MIN_BYTES) return
    // A log gets a line every 10%, a terminal every 1%.
    const step = terminal ? 1 : 10
    const percent = Math.floor(progress.bytesRead / progress.totalBytes * 100 / step) * step
    const text = `reading ${what} (${basename(file)}): ${percent}%`
    if (text === this.#last) return
    this.#last = text
    this.#stream.write(`\r${text}`)
  }

  clear (): void {
    if (this.#last === '') return
    this.#last = ''
    this.#stream.write(this.#stream.isTTY === true ? '\r\x1b[K' : '\n')
  }
}

function isMain (moduleUrl: string): boolean {
  const script = process.argv[1]
  return script !== undefined && realpathSync(script) === fileURLToPath(moduleUrl)
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  const name = args.find((arg) => !arg.startsWith('-')) ?? ''
  // What escapes main (an error event nobody listens to, deep in a stream) is trouble too, not
  // Node's exit code 1, which says "leak" here.
  const fail = (err: unknown): number => {
    process.stderr.write(troubleText(name, err))
    return EXIT_TROUBLE
  }
  process.on('uncaughtException', (err) => process.exit(fail(err)))
  process.exitCode = await main(args).catch(fail)
}
