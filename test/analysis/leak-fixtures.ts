// Snapshot series for the leak finder tests, written by a child process that leaks in several
// ways at once under a simulated load. Nothing here is a test.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

// Each round: one "POST /leak" request leaks a Twin into a Map and another into an Array (same
// class, two collections), a listener closure capturing an object, and a Visitor (an app class)
// into an array; "GET /ok" requests leave InFlight objects that live until the next round (in
// flight when the snapshot is taken). The plugin's request-count marks are kept as it keeps
// them: the strings of the latest mark, plus those of the mark before (still referenced).
const LEAK_SCRIPT = `
const v8 = require('node:v8')
const { EventEmitter } = require('node:events')
const { files, perRound, marks, okPerLeak, flatMarks } = JSON.parse(process.argv[1])
class Twin { constructor (i) { this.i = i } }
class Visitor { constructor (i) { this.i = i; this.name = 'visitor ' + i } }
class InFlight { constructor (i) { this.i = i; this.payload = new Array(8).fill(i) } }
class Hub extends EventEmitter {}
globalThis.app = { twinsByKey: new Map(), twinList: [], hub: new Hub(), visitors: [] }
app.hub.setMaxListeners(0)
app.hub.on('evt', () => {})
const counts = { 'POST /leak': 0, 'GET /ok': 0 }
globalThis.inflight = []
globalThis.marks = []
globalThis.previousMarks = []
let at = 0
let n = 0
const prefix = 'fastify-memory-diagnostics:request-count:'
files.forEach((file, round) => {
  globalThis.inflight = []
  for (let i = 0; i < perRound; i++, n++) {
    app.twinsByKey.set('key' + n, new Twin(n))
    app.twinList.push(new Twin(n))
    const captured = { n, text: 'captured by a listener ' + n }
    app.hub.on('evt', function onEvt () { return captured.n })
    app.visitors.push(new Visitor(n))
    counts['POST /leak']++
    for (let k = 0; k < okPerLeak[round]; k++) {
      inflight.push(new InFlight(n))
      counts['GET /ok']++
    }
  }
  if (marks) {
    at = Math.max(Date.now(), at + 1)
    globalThis.previousMarks = globalThis.marks
    const text = (route, count) => prefix + JSON.stringify({ v: 1, pid: process.pid, at, route, count })
    // Buffer round trip: a flat string, whose text the snapshot holds whole.
    globalThis.marks = Object.entries(counts).map(([route, count]) => flatMarks ? Buffer.from(text(route, count)).toString() : text(route, count))
  }
  v8.writeHeapSnapshot(file)
})
`

export interface LeakSeriesOptions {
  /** How many snapshots (one per round of load). */
  readonly snapshots: number
  /** "POST /leak" requests per round. */
  readonly perRound: number
  /** Keep request-count marks in the heap, as the plugin does. */
  readonly marks?: boolean
  /** Flatten the marks, as a producer should (default true); false leaves them concatenated strings. */
  readonly flatMarks?: boolean
  /** "GET /ok" requests per "POST /leak" request, per round (default 2, 3, 4...). */
  readonly okPerLeak?: readonly number[]
  /** File names start with this (default "snap"). */
  readonly prefix?: string
}

/** Snapshots of one process leaking as LEAK_SCRIPT says, one per round; returns their paths. */
export async function writeLeakSeries (dir: string, options: LeakSeriesOptions): Promise<string[]> {
  const files = Array.from({ length: options.snapshots }, (_, i) => join(dir, `${options.prefix ?? 'snap'}-${i}.heapsnapshot`))
  const okPerLeak = options.okPerLeak ?? files.map((_, i) => i + 2)
  const config = JSON.stringify({ files, perRound: options.perRound, marks: options.marks ?? false, okPerLeak, flatMarks: options.flatMarks ?? true })
  await runScript(LEAK_SCRIPT, config)
  return files
}

// The end of the series scripts: 200 of what `body` leaks per round (`n` counts them all), one
// snapshot per round, in the files named by the script's argument.
const rounds = (body: string): string => `let n = 0
for (const file of files) {
  for (let i = 0; i < 200; i++, n++) {${body}
  }
  v8.writeHeapSnapshot(file)
}
process.exit(0)
`

// Each round: 200 intervals never cleared (each Timeout holds a Job through its callback), and
// 200 Entries pushed into an array only a closure's context holds.
const TIMER_SCRIPT = `
const v8 = require('node:v8')
const files = JSON.parse(process.argv[1])
class Job { constructor (i) { this.i = i; this.data = 'job ' + i } }
class Entry { constructor (i) { this.i = i } }
function makeRecorder () { const seen = []; return function record (x) { seen.push(x) } }
globalThis.record = makeRecorder()
${rounds(`
    const job = new Job(n)
    setInterval(() => job.i, 1e9)
    record(new Entry(n))`)}`

/** Three snapshots of a process leaking intervals and closure-held entries, 200 of each per round. */
export async function writeTimerSeries (dir: string): Promise<string[]> {
  return await writeSeries(dir, 'timers', TIMER_SCRIPT)
}

// Each round, 200 of each carrier, each retaining an object of an app class (and a payload, so
// that the class is most of what the carrier retains): a listener closure on an emitter (Quote),
// a bound function in an array (Task), a reaction to a promise never settled (Waiter), a closure
// in a Map's values (Session). Plus closures in an array that capture only plain objects, and
// Visits in a Map that a scope variable holds, reached only through a listener on a Hub (an
// emitter): the Hub holds the listener, the scope holds the Map.
const CARRIER_SCRIPT = `
const v8 = require('node:v8')
const { EventEmitter } = require('node:events')
const files = JSON.parse(process.argv[1])
const payload = (i) => Array.from({ length: 32 }, (_, k) => i + k)
class Quote { constructor (i) { this.i = i; this.prices = payload(i) } onQuote () { return this.i } }
class Task { constructor (i) { this.i = i; this.data = payload(i) } run () { return this.i } }
class Waiter { constructor (i) { this.i = i; this.data = payload(i) } wake () { return this.i } }
class Session { constructor (i) { this.i = i; this.data = payload(i) } }
const feed = new EventEmitter()
feed.setMaxListeners(0)
globalThis.carriers = { feed, bound: [], never: new Promise(() => {}), callbacks: new Map(), plain: [] }
// One function per carrier, so that each closure has a context of its own.
function subscribe (quote) { feed.on('quote', () => quote.onQuote()) }
function bindTask (task) { return task.run.bind(task) }
function awaitNever (waiter) { carriers.never.then(() => waiter.wake()) }
function remember (n, session) { carriers.callbacks.set('s' + n, () => session.i) }
function keepPlain (plain) { carriers.plain.push(() => plain.n) }
class Visit { constructor (i) { this.i = i; this.data = payload(i) } }
class Hub extends EventEmitter {}
globalThis.hub = new Hub()
;(function () {
  const visits = new Map()
  hub.on('visit', (n) => visits.set(n, new Visit(n)))
})()
${rounds(`
    hub.emit('visit', n)
    subscribe(new Quote(n))
    carriers.bound.push(bindTask(new Task(n)))
    awaitNever(new Waiter(n))
    remember(n, new Session(n))
    keepPlain({ n, data: payload(n) })`)}`

/** Three snapshots of a process leaking objects of app classes through carriers, 200 of each per round. */
export async function writeCarrierSeries (dir: string): Promise<string[]> {
  return await writeSeries(dir, 'carriers', CARRIER_SCRIPT)
}

// Each round, 200 Conns kept in an array, each with the objects a database client makes for it:
// a Client, its Topology and two Pools, each Pool arming an interval whose callback holds it
// (so the timer list reaches the Pools, the Topology and the Client without the Conn: none of
// them is dominated by its Conn), in a context the Pool's own closure shares (so no leaking object
// dominates the context either). Their payloads make them far bigger than the Conn itself.
// Each Conn also has a Session that an old array holds too: held from elsewhere. The array has
// room for all of them from the start, so that its backing store is old as well.
const DRAG_SCRIPT = `
const v8 = require('node:v8')
const files = JSON.parse(process.argv[1])
const payload = (i) => Array.from({ length: 64 }, (_, k) => i + k)
globalThis.registry = { conns: [], sessions: new Array(600) }
class Pool {
  constructor (topology, i) {
    const pool = this
    this.topology = topology
    this.slots = payload(i)
    this.timer = setInterval(() => pool.check(), 1e9)
    this.onClose = () => pool.slots.length
  }
  check () { return this.slots.length }
}
class Topology { constructor (client, i) { this.client = client; this.pools = [new Pool(this, i), new Pool(this, i + 1)] } }
class Client { constructor (conn, i) { this.conn = conn; this.buffer = payload(i); this.topology = new Topology(this, i) } }
class Session { constructor (i) { this.i = i } }
class Conn { constructor (i) { this.client = new Client(this, i); this.session = new Session(i) } }
${rounds(`
    const conn = new Conn(n)
    registry.conns.push(conn)
    registry.sessions[n] = conn.session`)}`

/** Three snapshots of a process leaking Conns that drag bigger objects of other classes along, 200 per round. */
export async function writeDragSeries (dir: string): Promise<string[]> {
  return await writeSeries(dir, 'drags', DRAG_SCRIPT)
}

// Node's native objects (embedder nodes such as `Node / HistogramBase`) get another id in every
// snapshot. 300 histograms made before the first snapshot and kept, and each round 200 Meters
// kept, each with a histogram of its own.
const NATIVE_SCRIPT = `
const v8 = require('node:v8')
const { createHistogram } = require('node:perf_hooks')
const files = JSON.parse(process.argv[1])
class Meter { constructor (i) { this.i = i; this.histogram = createHistogram() } }
globalThis.steady = Array.from({ length: 300 }, () => createHistogram())
globalThis.meters = []
${rounds(`
    meters.push(new Meter(n))`)}`

/** Three snapshots of a process with 300 native histograms kept throughout and 200 Meters (each with one) kept per round. */
export async function writeNativeSeries (dir: string): Promise<string[]> {
  return await writeSeries(dir, 'natives', NATIVE_SCRIPT)
}

/** Runs a series script (its argument: the three files to write) in a child without tap's loaders. */
async function writeSeries (dir: string, name: string, script: string): Promise<string[]> {
  const files = [0, 1, 2].map((i) => join(dir, `${name}-${i}.heapsnapshot`))
  await runScript(script, JSON.stringify(files))
  return files
}

function runScript (script: string, argument: string): Promise<unknown> {
  return run(process.execPath, ['-e', script, argument], { env: { ...process.env, NODE_OPTIONS: '' } })
}
