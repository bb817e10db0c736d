// Generated leak shapes: a seeded generator of small services (a module graph of CommonJS files
// with simulated requests on routes, hooks, listeners, background loops, a package under
// node_modules and a preloaded agent) that leak in one or several ways at once beside busy
// routes that keep nothing, and carry things that look like leaks but are not (full caches,
// pools, requests in flight at a snapshot, lazily loaded modules, rescheduled timers, garbage).
// Shared by test/analysis/leak-shapes.test.ts (a sample) and bench/leak-shapes.ts (all of it).
// Nothing here is a test.
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { LeakCandidate, LeakReport } from '../../analysis/find-leaks.js'
import { seededRandom } from './seeded-random.js'

export const HOLDERS = ['module', 'class-field', 'closure', 'async-local', 'generator-local', 'for-await-local', 'emitter', 'timers', 'never-settled', 'weakmap'] as const
export const COLLECTIONS = ['array', 'map', 'set', 'object'] as const
export const UPDATES = ['in-place', 'spread', 'concat', 'replace-on-flush', 'copy-on-write'] as const
export const SITES = ['handler', 'hook', 'listener', 'background', 'preload'] as const
export const CODES = ['app', 'package', 'agent'] as const
export const NON_LEAKS = ['full-cache', 'pool', 'in-flight', 'lazy-module', 'rescheduled-timer', 'garbage'] as const

export type Holder = typeof HOLDERS[number]
export type Collection = typeof COLLECTIONS[number]
export type Update = typeof UPDATES[number]
export type Site = typeof SITES[number]
export type Code = typeof CODES[number]
export type NonLeak = typeof NON_LEAKS[number]

export interface LeakSpec {
  readonly id: string
  /** The leaking objects' class, unique to the service. */
  readonly className: string
  readonly holder: Holder
  /** For the holders that are collections (module, class-field, closure, the locals). */
  readonly collection: Collection
  readonly update: Update
  readonly site: Site
  readonly code: Code
  /** The route whose requests make it, for `handler` and `listener`; every request for `hook` and `preload`; none for `background`. */
  readonly route?: string
  /** The name a person would look for in the holder: the variable, the field, the function. */
  readonly holderName: string
  /** The package under node_modules, for `package` and `agent`. */
  readonly packageName?: string
  /** Code that defines `add<id>(x)` in place of the holder's template: a shape written by hand. */
  readonly custom?: string
}

export interface ShapeService {
  readonly seed: number
  readonly leaks: readonly LeakSpec[]
  readonly nonLeaks: ReadonlyArray<{ readonly kind: NonLeak, readonly className: string }>
  /** Requests per route in each round (round 0 warms up, before the first snapshot). */
  readonly rounds: ReadonlyArray<Readonly<Record<string, number>>>
  /** Objects a background leak makes per ms. */
  readonly backgroundPerMs: number
  /** How long each round lasts, in ms: not in proportion to its requests, so that time and requests can be told apart. */
  readonly roundMs: readonly number[]
  /** Files of the service, by path relative to its directory. */
  readonly files: Readonly<Record<string, string>>
  readonly preload: boolean
}

const BUSY_ROUTES = ['GET /busy', 'GET /health', 'POST /orders']
/** The package of every generated agent's code. */
export const AGENT_PACKAGE = 'acme-apm'
const pick = <T>(random: () => number, values: readonly T[]): T => values[Math.floor(random() * values.length)] as T

/** A leak drawn from the seed, its parts made consistent (an agent leaks where it is preloaded, a background job has no route). */
function drawLeak (random: () => number, id: string, route: string): LeakSpec {
  const code = pick(random, ['app', 'app', 'package', 'agent'] as const)
  let site: Site = code === 'agent' ? 'preload' : pick(random, ['handler', 'handler', 'hook', 'listener', 'background'] as const)
  let holder = pick(random, HOLDERS)
  // A leak through listeners, timers or a promise's reactions is made where it is registered: not by an agent's single subscription.
  if (code === 'agent' && (holder === 'emitter')) holder = 'module'
  if (site === 'preload' && code !== 'agent') site = 'handler'
  const collection = pick(random, COLLECTIONS)
  const update = collection === 'set' || collection === 'map' ? pick(random, ['in-place', 'copy-on-write'] as const) : pick(random, UPDATES)
  const className = `Leak${id}${pick(random, ['Span', 'Audit', 'Receipt', 'Record', 'Session', 'Entry'])}`
  const holderName = { module: `store${id}`, 'class-field': `Registry${id}`, closure: `remember${id}`, 'async-local': `consume${id}`, 'generator-local': `collect${id}`, 'for-await-local': `drain${id}`, emitter: `bus${id}`, timers: `timers${id}`, 'never-settled': `ready${id}`, weakmap: `byOwner${id}` }[holder]
  return {
    id,
    className,
    holder,
    collection,
    update,
    site,
    code,
    ...(site === 'handler' || site === 'listener' ? { route } : {}),
    holderName,
    ...(code === 'package' ? { packageName: `lib-${id.toLowerCase()}` } : code === 'agent' ? { packageName: AGENT_PACKAGE } : {})
  }
}

/** The service of a seed: one to three leaks, one to three non-leaks, busy routes with a different mix in every round. */
export function generateService (seed: number, options: { readonly leaks?: number, readonly nonLeaks?: number, readonly rounds?: number } = {}): ShapeService {
  const random = seededRandom(seed)
  const leakCount = options.leaks ?? 1 + Math.floor(random() * 3)
  const leaks = Array.from({ length: leakCount }, (_, k) => drawLeak(random, `${seed % 1000}${String.fromCharCode(65 + k)}`, `POST /l${k}`))
  const nonLeakCount = options.nonLeaks ?? 1 + Math.floor(random() * 3)
  const nonLeaks = Array.from({ length: nonLeakCount }, (_, k) => ({ kind: pick(random, NON_LEAKS), className: `Keep${seed % 1000}${String.fromCharCode(65 + k)}` }))
  return serviceOf(seed, leaks, nonLeaks, random, options.rounds)
}

/** A service of the leaks and non-leaks given, its traffic drawn from `random`. */
export function serviceOf (seed: number, leaks: readonly LeakSpec[], nonLeaks: ShapeService['nonLeaks'], random = seededRandom(seed), roundCount = 3): ShapeService {
  const routes = [...new Set([...leaks.flatMap((l) => l.route === undefined ? [] : [l.route]), ...BUSY_ROUTES])]
  // Every leaking route is requested in every round (else a leak of it grows in no interval), in a mix that differs per round.
  const rounds = Array.from({ length: roundCount }, () => Object.fromEntries(routes.map((route) =>
    [route, route.startsWith('POST /l') ? 60 + Math.floor(random() * 90) : 40 + Math.floor(random() * 200)])))
  const backgroundPerMs = 0.3 + random() * 0.3
  const roundMs = rounds.map(() => 150 + Math.floor(random() * 300))
  return { seed, leaks, nonLeaks, rounds, backgroundPerMs, roundMs, files: serviceFiles(leaks, nonLeaks), preload: leaks.some((l) => l.code === 'agent') }
}

/** `add(x)` for a collection under `ref` in the update style: in place, or a new collection each time. */
function update (ref: string, collection: Collection, style: Update, key: string, value: string): string {
  const k = `${key}`
  switch (collection) {
    case 'array':
      if (style === 'spread') return `${ref} = [...${ref}, ${value}]`
      if (style === 'concat') return `${ref} = ${ref}.concat([${value}])`
      if (style === 'replace-on-flush') return `batch.push(${value}); if (batch.length >= 7) { const b = batch; batch = []; ${ref} = b.concat(${ref}) }`
      if (style === 'copy-on-write') return `${ref} = ${ref}.slice(); ${ref}.push(${value})`
      return `${ref}.push(${value})`
    case 'map':
      return style === 'copy-on-write' ? `${ref} = new Map(${ref}).set(${k}, ${value})` : `${ref}.set(${k}, ${value})`
    case 'set':
      return style === 'copy-on-write' ? `${ref} = new Set(${ref}).add(${value})` : `${ref}.add(${value})`
    case 'object':
      if (style === 'in-place') return `${ref}[${k}] = ${value}`
      return `${ref} = { ...${ref}, [${k}]: ${value} }`
  }
}

function emptyOf (collection: Collection): string {
  return { array: '[]', map: 'new Map()', set: 'new Set()', object: '{}' }[collection]
}

/** The code that keeps what `add<id>(x)` is given, per holder kind: its declarations and the function. */
function holderCode (leak: LeakSpec): string {
  if (leak.custom !== undefined) return leak.custom
  const { id, collection, update: style, holderName: name } = leak
  const batch = style === 'replace-on-flush' ? 'let batch = []' : ''
  const key = '"k" + x.i'
  switch (leak.holder) {
    case 'module':
      return `let ${name} = ${emptyOf(collection)}\n${batch.replace('batch', `batch${id}`)}\nfunction add${id} (x) { ${update(name, collection, style, key, 'x').replaceAll('batch', `batch${id}`)} }`
    case 'class-field':
      return `class ${name} {\n  constructor () { this.items = ${emptyOf(collection)}; this.batch = [] }\n  add (x) { ${update('this.items', collection, style, key, 'x').replaceAll('batch', 'this.batch').replaceAll('this.this.', 'this.')} }\n}\nconst registry${id} = new ${name}()\nfunction add${id} (x) { registry${id}.add(x) }`
    case 'closure':
      return `const ${name} = (() => {\n  let items = ${emptyOf(collection)}\n  ${batch}\n  return function keep (x) { ${update('items', collection, style, key, 'x')} }\n})()\nfunction add${id} (x) { ${name}(x) }`
    case 'async-local':
      return `const queue${id} = []\nlet wake${id} = null\nasync function ${name} () {\n  let items = ${emptyOf(collection)}\n  ${batch}\n  for (;;) {\n    while (queue${id}.length === 0) await new Promise((resolve) => { wake${id} = resolve })\n    const x = queue${id}.shift()\n    ${update('items', collection, style, key, 'x')}\n  }\n}\n${name}()\nfunction add${id} (x) { queue${id}.push(x); if (wake${id} !== null) { const w = wake${id}; wake${id} = null; w() } }`
    case 'generator-local':
      return `function * ${name} () {\n  let items = ${emptyOf(collection)}\n  ${batch}\n  for (;;) {\n    const x = yield\n    ${update('items', collection, style, key, 'x')}\n  }\n}\nconst gen${id} = ${name}()\ngen${id}.next()\nfunction add${id} (x) { gen${id}.next(x) }`
    case 'for-await-local':
      return `const queue${id} = []\nlet wake${id} = null\nasync function * jobs${id} () {\n  for (;;) {\n    while (queue${id}.length === 0) await new Promise((resolve) => { wake${id} = resolve })\n    yield queue${id}.shift()\n  }\n}\nasync function ${name} () {\n  let items = ${emptyOf(collection)}\n  ${batch}\n  for await (const x of jobs${id}()) { ${update('items', collection, style, key, 'x')} }\n}\n${name}()\nfunction add${id} (x) { queue${id}.push(x); if (wake${id} !== null) { const w = wake${id}; wake${id} = null; w() } }`
    case 'emitter':
      return `const ${name} = new (require('node:events').EventEmitter)()\n${name}.setMaxListeners(0)\nfunction add${id} (x) { ${name}.on('tick', () => x.i) }`
    case 'timers':
      return `function add${id} (x) { setInterval(() => x.i, 1e9) }`
    case 'never-settled':
      return `const ${name} = new Promise(() => {})\nfunction add${id} (x) { ${name}.then(() => x.i) }`
    case 'weakmap':
      return `const ${name} = new WeakMap()\nconst owner${id} = { name: 'owner' }\nfunction add${id} (x) { let list = ${name}.get(owner${id}); if (list === undefined) ${name}.set(owner${id}, list = []); list.push(x) }`
  }
}

function classCode (className: string): string {
  return `class ${className} { constructor (i) { this.i = i; this.note = '${className} ' + i; this.data = [i, i + 1, i + 2] } }`
}

function serviceFiles (leaks: readonly LeakSpec[], nonLeaks: ShapeService['nonLeaks']): Record<string, string> {
  const files: Record<string, string> = {}
  const app: string[] = [
    "'use strict'",
    "const dc = require('node:diagnostics_channel')",
    "const { EventEmitter } = require('node:events')",
    'const requests = dc.channel(\'app.request\')',
    'const events = new EventEmitter()',
    'events.setMaxListeners(0)',
    'let made = 0',
    'const routes = {}',
    'const hooks = []',
    'const backgroundPerMs = Number(process.env.BACKGROUND_PER_MS)',
    'const perRequest = []',
    'exports.onRound = []'
  ]
  const agent: string[] = ["'use strict'", "const dc = require('node:diagnostics_channel')", 'let made = 0']
  for (const leak of leaks) {
    const code = [classCode(leak.className), holderCode(leak)].join('\n')
    if (leak.code === 'agent') {
      agent.push(code, `dc.subscribe('app.request', () => { add${leak.id}(new ${leak.className}(made++)) })`)
      continue
    }
    if (leak.code === 'package') {
      const dir = `node_modules/${leak.packageName as string}`
      files[`${dir}/package.json`] = JSON.stringify({ name: leak.packageName, version: '1.0.0', main: 'index.js' })
      files[`${dir}/index.js`] = `'use strict'\nlet made = 0\n${code}\nmodule.exports = { track () { add${leak.id}(new ${leak.className}(made++)) } }\n`
      app.push(`const lib${leak.id} = require('${leak.packageName as string}')`, `function make${leak.id} () { lib${leak.id}.track() }`)
    } else {
      app.push(code, `function make${leak.id} () { add${leak.id}(new ${leak.className}(made++)) }`)
    }
    if (leak.site === 'handler') app.push(`routes['${leak.route as string}'] = () => { make${leak.id}() }`)
    if (leak.site === 'hook') app.push(`hooks.push(() => { make${leak.id}() })`)
    if (leak.site === 'listener') app.push(`events.on('${leak.route as string}', () => { make${leak.id}() })`)
    if (leak.site === 'background') {
      // A loop on a timer: as many objects as the time since it started says, whatever the requests.
      app.push(`;(async function forward${leak.id} () { const start = Date.now(); let made = 0; for (;;) { await new Promise((resolve) => setTimeout(resolve, 2)); const due = Math.floor((Date.now() - start) * backgroundPerMs); for (; made < due; made++) make${leak.id}() } })()`)
    }
  }
  for (const { kind, className } of nonLeaks) app.push(classCode(className), nonLeakCode(kind, className))
  app.push(
    'function busy (route) { const garbage = []; for (let i = 0; i < 20; i++) garbage.push({ route, i, text: route + i }); return garbage.length }',
    'exports.handle = function handle (route) {',
    '  for (const hook of hooks) hook()',
    '  requests.publish({ route })',
    '  events.emit(route)',
    '  const handler = routes[route]',
    '  if (handler !== undefined) handler()',
    '  busy(route)',
    '  for (const each of perRequest) each(route)',
    '}',
    ''
  )
  files['app.js'] = app.join('\n') + '\n'
  // The agent is a package too, preloaded by name (`node --require <it>`) as an APM agent is.
  files[`node_modules/${AGENT_PACKAGE}/package.json`] = JSON.stringify({ name: AGENT_PACKAGE, version: '1.0.0', main: 'index.js' })
  files[`node_modules/${AGENT_PACKAGE}/index.js`] = agent.join('\n') + '\n'
  files['driver.js'] = DRIVER
  // CommonJS whatever the directory it is written in (this repository's package.json says "module").
  files['package.json'] = JSON.stringify({ private: true, type: 'commonjs' })
  return files
}

function nonLeakCode (kind: NonLeak, className: string): string {
  const v = `${className.toLowerCase()}`
  switch (kind) {
    case 'full-cache':
      // Bounded at 150 entries, full after the warm-up round: each new entry evicts the oldest.
      return `const ${v} = new Map()\nlet ${v}N = 0\nperRequest.push(() => { ${v}.set('k' + ${v}N, new ${className}(${v}N++)); if (${v}.size > 150) ${v}.delete(${v}.keys().next().value) })`
    case 'pool':
      return `const ${v} = Array.from({ length: 64 }, (_, i) => new ${className}(i))\nlet ${v}N = 0\nperRequest.push(() => { const item = ${v}[${v}N++ % ${v}.length]; item.i++ })`
    case 'in-flight':
      // What requests hold while they run: alive at a snapshot, gone in the next round.
      return `let ${v} = []\nexports.onRound.push(() => { ${v} = [] })\nperRequest.push(() => { ${v}.push(new ${className}(${v}.length)) })`
    case 'lazy-module':
      // Loaded once, by the first request after the first snapshot: a step, not a slope.
      return `let ${v} = null\nlet ${v}Requests = 0\nperRequest.push(() => { if (++${v}Requests === 500 && ${v} === null) ${v} = Array.from({ length: 300 }, (_, i) => new ${className}(i)) })`
    case 'rescheduled-timer':
      return `let ${v}Last = null\n;(function tick () { ${v}Last = new ${className}(0); setTimeout(tick, 1).unref() })()`
    case 'garbage':
      return `perRequest.push(() => { const made = []; for (let i = 0; i < 10; i++) made.push(new ${className}(i)); return made.length })`
  }
}

// Runs the rounds (the first warms up), then one snapshot after each; the plugin's request-count
// marks kept in the heap as the plugin keeps them, so that find-leaks can tell per route.
const DRIVER = `'use strict'
const v8 = require('node:v8')
const { rounds, roundMs, files } = JSON.parse(process.argv[2])
const app = require('./app.js')
const prefix = 'fastify-memory-diagnostics:request-count:'
const counts = {}
let at = 0
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
async function main () {
  for (let r = 0; r < rounds.length; r++) {
    for (const reset of app.onRound) reset()
    const started = Date.now()
    const queue = Object.entries(rounds[r]).flatMap(([route, n]) => Array.from({ length: n }, () => route))
    // interleaved, the same way every run
    queue.sort((a, b) => (a.length * 31 + b.charCodeAt(1)) % 7 - 3)
    // spread over the round's length, in 10 steps
    for (let step = 0; step < 10; step++) {
      for (const route of queue.slice(Math.floor(queue.length * step / 10), Math.floor(queue.length * (step + 1) / 10))) {
        app.handle(route)
        counts[route] = (counts[route] ?? 0) + 1
      }
      await sleep(Math.max(1, started + roundMs[r] * (step + 1) / 10 - Date.now()))
    }
    at = Math.max(Date.now(), at + 1)
    globalThis.requestCountMarks = Object.entries(counts).map(([route, count]) => Buffer.from(prefix + JSON.stringify({ v: 1, pid: process.pid, at, route, count })).toString())
    v8.writeHeapSnapshot(files[r])
  }
  process.exit(0)
}
main()
`

/** Writes the service into `dir` and runs it: the paths of its snapshots, one per round. */
export async function runService (service: ShapeService, dir: string): Promise<string[]> {
  for (const [path, text] of Object.entries(service.files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  const snapshots = service.rounds.map((_, r) => join(dir, `shape-${service.seed}-${r}.heapsnapshot`))
  const args = [...(service.preload ? ['--require', AGENT_PACKAGE] : []), 'driver.js', JSON.stringify({ rounds: service.rounds, roundMs: service.roundMs, files: snapshots })]
  await promisify(execFile)(process.execPath, args, { cwd: dir, env: { ...process.env, NODE_OPTIONS: '', BACKGROUND_PER_MS: String(service.backgroundPerMs) }, maxBuffer: 16 * 1024 * 1024 })
  return snapshots
}

export interface LeakVerdict {
  readonly leak: LeakSpec
  /** Its rank among the candidates, from 1; 0 when absent. */
  readonly rank: number
  /** Whether that candidate names the holder as described (see `namesHolder`). */
  readonly rightHolder: boolean
  /** What its figures per request say (see `routeVerdict`). */
  readonly route: RouteVerdict
  readonly candidate?: LeakCandidate
}

/** `right`: what the figures claim is true; `cannot-tell`: they claim nothing false and say they cannot tell; `wrong`: a claim is false. */
export type RouteVerdict = 'right' | 'cannot-tell' | 'wrong'

export interface ServiceVerdict {
  readonly leaks: LeakVerdict[]
  /** Candidates that are no generated leak (a non-leak's class, or anything else), besides the plugin's own state. */
  readonly falseCandidates: LeakCandidate[]
  /** Candidates of another class held by a generated leak's holder: a leak's part named apart. */
  readonly parts: LeakCandidate[]
}

const isOf = (candidate: LeakCandidate, className: string): boolean => candidate.className === className || candidate.objectClass === className

/** How find-leaks did on a service: where each leak ranked, with which holder, and what else it named. */
export function judgeService (service: ShapeService, report: LeakReport): ServiceVerdict {
  const leaks = service.leaks.map((leak): LeakVerdict => {
    const index = report.candidates.findIndex((c) => isOf(c, leak.className))
    const candidate = report.candidates[index]
    if (candidate === undefined) return { leak, rank: 0, rightHolder: false, route: 'wrong' }
    // Its rank among what is not another generated leak: with three leaks at once, the third can still be "first".
    const rank = report.candidates.slice(0, index).filter((c) => !service.leaks.some((other) => isOf(c, other.className))).length + 1
    return { leak, rank, rightHolder: namesHolder(leak, candidate), route: routeVerdict(leak, candidate), candidate }
  })
  const others = report.candidates.filter((c) => c.pluginState !== true && !service.leaks.some((leak) => isOf(c, leak.className)))
  // Objects a leak's holder keeps beside the leaking class (the promises `.then` returns on a promise never settled) leak too: a part, not a false candidate.
  const partOfLeak = (c: LeakCandidate): boolean => service.leaks.some((leak) => c.retainerPath.some((step) => step.edge.includes(leak.holderName)))
  return { leaks, falseCandidates: others.filter((c) => !partOfLeak(c)), parts: others.filter(partOfLeak) }
}

/**
 * Whether the candidate says what holds the leak as a person would look for it: the collection's
 * kind for listeners, timers and promises; the suspended function for a local; the variable, the
 * class or the closure otherwise (in the collection's label, its variable or the holder), marked
 * replaced when the collection is new at each update; and the package for a package's leak.
 */
export function namesHolder (leak: LeakSpec, candidate: LeakCandidate): boolean {
  const { collection } = candidate
  if (leak.packageName !== undefined && candidate.packageName !== leak.packageName) return false
  switch (leak.holder) {
    case 'emitter':
      return collection.kind === 'listeners'
    case 'timers':
      return collection.kind === 'timers'
    case 'never-settled':
      return collection.kind === 'promise'
    case 'async-local':
    case 'for-await-local':
    case 'generator-local':
      return collection.localOf?.name === leak.holderName
    default: {
      const named = [collection.label, collection.variable?.name ?? '', candidate.holder?.className ?? ''].some((text) => text.includes(leak.holderName) || (leak.holder === 'closure' && text.includes('items')))
      const replaced = leak.update !== 'in-place' && leak.holder !== 'weakmap'
      return named && (collection.replacedOnUpdate === true) === replaced
    }
  }
}

// A figure within this share of the truth is right (objects made asynchronously may land in the next interval).
const FIGURE_TOLERANCE = 0.15

/**
 * Whether the candidate's figures per request are true for the leak: a route's leak is one object
 * per request of its route and none of the others; a hook's or an agent's, one per request of any
 * route; a background job's, driven by no request. Figures marked as what the counts cannot tell
 * claim nothing; a certain figure that contradicts the truth is wrong.
 */
export function routeVerdict (leak: LeakSpec, candidate: LeakCandidate): RouteVerdict {
  const shares = candidate.perRoute ?? []
  const near = (value: number, truth: number): boolean => Math.abs(value - truth) <= FIGURE_TOLERANCE * Math.max(1, truth)
  const certain = shares.filter((share) => !share.ambiguous)
  const truthOf = (route: string): number => leak.site === 'handler' || leak.site === 'listener' ? (route === leak.route ? 1 : 0) : 0
  let right = false
  for (const share of certain) {
    if (share.basis === 'any-route') {
      if (leak.site !== 'hook' && leak.site !== 'preload') return 'wrong'
      if (!near(share.objectsPerRequest, 1)) return 'wrong'
      right = true
    } else if (share.basis === 'no-request') {
      if (leak.site !== 'background') return 'wrong'
      right = true
    } else {
      if (!near(share.objectsPerRequest, truthOf(share.route))) return 'wrong'
      if (share.route === leak.route) right = true
    }
  }
  return right ? 'right' : 'cannot-tell'
}
