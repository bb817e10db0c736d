#!/usr/bin/env node
import { realpathSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
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
const SORT_KEYS: readonly string[] = ['sizeDelta', 'countDelta', 'addedSize', 'addedCount']
// Smaller files are read in about a second: a progress line would only flicker in a log.
const PROGRESS_MIN_BYTES = 20 * 1024 * 1024

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
 * `fastify-memory-diagnostics diff before after` or `find-leaks a b [c ...]`. Returns the exit
 * code: 0 done, 1 a file could not be read or is not a complete snapshot (or, with `--fail-on`,
 * a candidate grows faster than allowed), 2 bad usage (or snapshots `--fail-on` cannot judge).
 */
export async function main (argv: readonly string[], streams: CliStreams = process): Promise<number> {
  let command: Command
  try {
    command = parseCommand(argv)
  } catch (err) {
    streams.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (command.name === 'help') {
    streams.stdout.write(USAGE)
    return 0
  }
  // one file is a usage error, unless it is a heap profile (which says what one can tell)
  if (command.name === 'find-leaks' && command.files.length === 1 && await fileKind(command.files[0]!).catch(() => null) !== 'heap-profile') {
    streams.stderr.write(`${ONE_SNAPSHOT}\n\n${USAGE}`)
    return 2
  }
  const progress = new ProgressLine(streams.stderr)
  try {
    const { text, exitCode, problem } = await run(command, progress)
    streams.stdout.write(text)
    if (problem !== undefined) streams.stderr.write(`fastify-memory-diagnostics ${command.name}: ${problem}\n`)
    return exitCode
  } catch (err) {
    progress.clear()
    streams.stderr.write(`fastify-memory-diagnostics ${command.name}: ${(err as Error).message}\n`)
    return err instanceof UsageError ? 2 : 1
  }
}

/** Input the command understood but cannot judge: exit code 2, as bad usage. */
class UsageError extends Error {}

interface Outcome {
  readonly text: string
  readonly exitCode: number
  /** Why the exit code is not 0, for stderr. */
  readonly problem?: string
}

async function run (command: DiffCommand | FindLeaksCommand | ReportCommand, progress: ProgressLine): Promise<Outcome> {
  if (command.name === 'report') return { text: await renderIncidentReport(command.bundle), exitCode: 0 }
  return command.name === 'diff' ? { text: await runDiff(command, progress), exitCode: 0 } : await runFindLeaks(command, progress)
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
    if (command.failOn !== null) throw new UsageError('--fail-on counts snapshot objects per request: it is no option for heap profiles')
    const report = await findGrowingSites(command.files, { top: command.top })
    return { text: command.json ? `${JSON.stringify(report, null, 2)}\n` : formatGrowingSites(report), exitCode: 0 }
  }
  if (snapshots.length === 1) throw new UsageError('find-leaks needs two snapshot files or more beside heap profiles (the profiles then tell where the candidates were allocated); got one snapshot.')
  const report = await findLeaks(snapshots, {
    top: command.top,
    minPerInterval: command.min,
    ...(profiles.length === 0 ? {} : { profiles }),
    onProgress: (p) => progress.update(`snapshot ${p.index + 1} of ${snapshots.length}`, p.file, p)
  })
  progress.clear()
  const text = command.json ? `${JSON.stringify(report, null, 2)}\n` : formatLeakReport(report)
  if (command.failOn === null) return { text, exitCode: 0 }
  if (report.requestsPerInterval === undefined) {
    throw new UsageError('--fail-on needs request counts in every snapshot (snapshots taken through the plugin\'s POST /heap-snapshot, of one process)')
  }
  const over = overLimit(report, command.failOn)
  return over.length === 0
    ? { text, exitCode: 0 }
    : { text, exitCode: 1, problem: over.map((o) => `${o.className} grows ${o.perRequest.toFixed(2)} objects per request of ${o.route}, above --fail-on ${command.failOn}`).join('; ') }
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
    const shares = candidate.perRoute ?? []
    const ambiguous = shares.filter((share) => share.ambiguous)
    const judged = ambiguous.length > 0
      ? [ambiguous.reduce((least, share) => (share.objectsPerRequest < least.objectsPerRequest ? share : least))]
      : shares
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
  process.exitCode = await main(process.argv.slice(2))
}
