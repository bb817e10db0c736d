#!/usr/bin/env node
import { realpathSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { diffHeapSnapshots } from './diff.js'
import type { DiffProgress, HeapDiffSortKey } from './diff.js'
import { formatHeapDiff } from './format.js'

/** Where the CLI writes; `process` by default, a fake in tests. */
export interface CliStreams {
  readonly stdout: { write: (text: string) => unknown }
  readonly stderr: { write: (text: string) => unknown, readonly isTTY?: boolean }
}

const DEFAULT_TOP = 20
const DEFAULT_PATHS = 3
const SORT_KEYS: readonly string[] = ['sizeDelta', 'countDelta', 'addedSize', 'addedCount']
// Smaller files are read in about a second: a progress line would only flicker in a log.
const PROGRESS_MIN_BYTES = 20 * 1024 * 1024

const USAGE = `Usage: fastify-memory-diagnostics diff <before.heapsnapshot[.gz]> <after.heapsnapshot[.gz]> [options]

Compares two V8 heap snapshots of the same process as the Comparison view of
Chrome DevTools does: objects grouped by constructor, matched by object id,
with the shortest retainer path to a new object of the classes that grew most.

Options:
  --top N      show the N classes that grew most (default ${DEFAULT_TOP})
  --sort KEY   sizeDelta (default), countDelta, addedSize or addedCount
  --paths N    retainer paths for the N top growing classes (default ${DEFAULT_PATHS}, 0 for none)
  --json       print the comparison as JSON
  -h, --help   show this help
`

interface Command {
  readonly help: boolean
  readonly before: string
  readonly after: string
  readonly json: boolean
  readonly top: number
  readonly paths: number
  readonly sortBy: HeapDiffSortKey
}

/**
 * `fastify-memory-diagnostics diff before after [--json] [--top N]`. Returns the exit code:
 * 0 done, 1 a file could not be read or is not a complete snapshot, 2 bad usage.
 */
export async function main (argv: readonly string[], streams: CliStreams = process): Promise<number> {
  let command: Command
  try {
    command = parseCommand(argv)
  } catch (err) {
    streams.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (command.help) {
    streams.stdout.write(USAGE)
    return 0
  }
  const progress = new ProgressLine(streams.stderr)
  try {
    const diff = await diffHeapSnapshots(command.before, command.after, {
      top: command.top,
      retainerPaths: command.paths,
      sortBy: command.sortBy,
      onProgress: (p) => progress.update(p)
    })
    progress.clear()
    streams.stdout.write(command.json ? `${JSON.stringify(diff, null, 2)}\n` : formatHeapDiff(diff))
    return 0
  } catch (err) {
    progress.clear()
    streams.stderr.write(`fastify-memory-diagnostics diff: ${(err as Error).message}\n`)
    return 1
  }
}

function parseCommand (argv: readonly string[]): Command {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      top: { type: 'string' },
      paths: { type: 'string' },
      sort: { type: 'string', default: 'sizeDelta' },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  const [name, before, after, ...extra] = positionals
  if (values.help) return { help: true, before: '', after: '', json: false, top: 0, paths: 0, sortBy: 'sizeDelta' }
  if (name !== 'diff') throw new Error(name === undefined ? 'Missing command.' : `Unknown command "${name}".`)
  if (before === undefined || after === undefined) throw new Error('diff needs two snapshot files.')
  if (extra.length > 0) throw new Error(`Unexpected argument "${extra[0]}".`)
  if (!SORT_KEYS.includes(values.sort)) throw new Error(`--sort must be one of ${SORT_KEYS.join(', ')}.`)
  return {
    help: false,
    before,
    after,
    json: values.json,
    top: parseCount(values.top, DEFAULT_TOP, '--top', 1),
    paths: parseCount(values.paths, DEFAULT_PATHS, '--paths', 0),
    sortBy: values.sort as HeapDiffSortKey
  }
}

function parseCount (text: string | undefined, fallback: number, name: string, min: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${text}".`)
  return value
}

/** One line on stderr, rewritten as the files are read: "reading after snapshot (b.heapsnapshot): 42%". */
class ProgressLine {
  readonly #stream: CliStreams['stderr']
  #last = ''

  constructor (stream: CliStreams['stderr']) {
    this.#stream = stream
  }

  update (progress: DiffProgress): void {
    const terminal = this.#stream.isTTY === true
    if (!terminal && progress.totalBytes < PROGRESS_MIN_BYTES) return
    // A log gets a line every 10%, a terminal every 1%.
    const step = terminal ? 1 : 10
    const percent = Math.floor(progress.bytesRead / progress.totalBytes * 100 / step) * step
    const text = `reading ${progress.snapshot} snapshot (${basename(progress.file)}): ${percent}%`
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
