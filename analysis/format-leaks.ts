import type { LeakAllocation } from './allocated-by.js'
import type { LeakCandidate, LeakDrag, LeakReport } from './find-leaks.js'
import type { RouteShare } from './route-attribution.js'
import { bytes } from './format.js'

/** The leak report as text: the snapshots, then each candidate with what holds it and how to find it. */
export function formatLeakReport (report: LeakReport): string {
  const lines = report.snapshots.map((s, i) =>
    `Snapshot ${i + 1}: ${count(s.nodeCount)} nodes${s.pid === undefined ? '' : `, pid ${s.pid}`}  ${s.file}`)
  if (report.requestsPerInterval !== undefined) {
    lines.push('Requests per interval:')
    report.requestsPerInterval.forEach((interval, i) => {
      const routes = Object.entries(interval).filter(([, n]) => n > 0).map(([route, n]) => `${route} ${count(n)}`)
      lines.push(`  ${i + 1}→${i + 2}: ${routes.length === 0 ? 'none' : routes.join(', ')}`)
    })
  }
  lines.push('')
  if (report.candidates.length === 0) {
    lines.push('No leak candidate: no group of new objects is still alive from every interval.')
  } else {
    lines.push(
      'Leak candidates: objects allocated in each interval and still alive in the last snapshot, most bytes per interval first, ' +
        'with what they drag (new objects alive only because they hold them).',
      'Search the last snapshot for @id in Chrome DevTools (Memory panel) to see every retainer of the object named on each path.'
    )
    report.candidates.forEach((candidate, i) => lines.push('', ...candidateLines(candidate, i + 1)))
  }
  if (report.notes.length > 0) lines.push('', 'Notes:', ...report.notes.map((note) => `- ${note}`))
  return lines.join('\n') + '\n'
}

function candidateLines (c: LeakCandidate, rank: number): string[] {
  const what = c.carrier !== undefined
    ? `${c.className} (retained by ${c.objectClass}${c.carrier.heldBy === undefined ? '' : ` on ${c.carrier.heldBy}`})`
    : c.objectClass === c.className ? c.className : `${c.className} (its ${c.objectClass})`
  const lines = [
    `${rank}. ${what}: ${count(c.liveCount)} alive, retaining ${bytes(c.retainedBytes)}${c.pluginState === true ? ' (this plugin\'s own state, bounded by its options: listed last)' : ''}`,
    `   per interval: ${c.countPerInterval.map((n, i) => `+${count(n)} (${bytes(c.bytesPerInterval[i] as number)})`).join(', ')}`,
    `   held by: ${c.collection.kind}${c.collection.label === '' || c.collection.localOf !== undefined ? '' : `  ${c.collection.label}`}${collectionSize(c)}`
  ]
  const where = whereText(c)
  if (where !== '') lines.push(`   held in: ${where}`)
  if (c.entryParts !== undefined) lines.push(`   with its entries: ${dragsText(c.entryParts)}`)
  if (c.drags !== undefined) lines.push(`   drags: ${dragsText(c.drags)}`)
  if (c.perRoute !== undefined && c.perRoute.length > 0) {
    lines.push(`   per request: ${sharesText(c.perRoute)}`)
    if (c.perRouteNote !== undefined) lines.push(`   (${c.perRouteNote})`)
  }
  if (c.allocatedBy !== undefined) lines.push(`   allocated by: ${allocationText(c.allocatedBy)}`)
  lines.push(`   path: ${stepsText(c.retainerPath)} @${c.sampleId}`)
  if (c.shortestPath !== undefined) lines.push(`   shortest path, through a timer or a bound function: ${stepsText(c.shortestPath)}`)
  return lines
}

/**
 * `payload (app.ts:14:3) ← Session (app.ts:30:3) ← …, in prom-client, under POST /login (650 B per
 * request), +130 kB from the first profile to the last (the class's constructor is on the stack)`
 */
function allocationText (a: LeakAllocation): string {
  const frames = a.stack.map((frame) => {
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName
    const at = frame.source ?? frame
    return at.url === '' ? `${name} (V8)` : `${name} (${shortFile(at.url)}:${at.line}:${at.column})`
  })
  const route = a.route === null
    ? ''
    : `, under ${a.route.route}${a.route.bytesPerRequest === null ? '' : ` (${bytes(a.route.bytesPerRequest)} per request)`}`
  const why = a.basis === 'constructor'
    ? 'the class\'s constructor is on its stack'
    : `${Math.round((a.share ?? 1) * 100)}% of what grew under its route's handler went through this app function`
  return `${frames.join(' ← ')}${a.packageName === undefined ? '' : `, in ${a.packageName}`}${route}, ` +
    `+${bytes(a.growthBytes)} from the first profile to the last (${why})`
}

/** A class, or for an object without one (a factory's object literal), where its methods come from. */
function holderText (className: string): string {
  return className === 'Object' ? 'an Object whose methods it defines' : `class ${className}`
}

function stepsText (steps: LeakCandidate['retainerPath']): string {
  return steps.map((step) => step.label + step.edge).join(' → ')
}

/** ` (1,234 entries, retaining 1.2 MB)` when the finder found the collection itself. */
function collectionSize (c: LeakCandidate): string {
  const { entries, retainedBytes } = c.collection
  const parts = [
    ...(entries === undefined ? [] : [`${count(entries)} ${entries === 1 ? 'entry' : 'entries'}`]),
    ...(retainedBytes === undefined ? [] : [`retaining ${bytes(retainedBytes)}`])
  ]
  if (c.collection.replacedOnUpdate === true) parts.push('replaced on each update')
  const { variable, localOf } = c.collection
  const where = localOf !== undefined
    ? `  a local of ${localOf.name}(), suspended${localOf.file === undefined ? '' : ` (${shortFile(localOf.file)})`}`
    : variable === undefined ? '' : `, in variable ${variable.name}${variable.file === undefined ? '' : ` of ${shortFile(variable.file)}`}`
  return (parts.length === 0 ? '' : ` (${parts.join(', ')})`) + where
}

/**
 * `prom-client (node_modules/prom-client/lib/counter.js, class Counter)`, or the app's file of the
 * holder, of the scope whose variable holds the collection, or of the class.
 */
function whereText (c: LeakCandidate): string {
  const { variable } = c.collection
  const file = c.holder?.file ?? variable?.file ?? c.classFile
  if (file === undefined) return ''
  const of = c.holder?.file !== undefined ? holderText(c.holder.className) : variable?.file !== undefined ? `variable ${variable.name}` : `class ${c.className}`
  return c.packageName === undefined ? `${shortFile(file)} (${of})` : `${c.packageName} (${shortFile(file)}, ${of})`
}

/** A path from its last `node_modules/` on, else as the snapshot names it. */
function shortFile (file: string): string {
  const at = file.lastIndexOf('node_modules/')
  return at === -1 ? file.replace(/^file:\/\//, '') : file.slice(at)
}

// The classes a person reads before the rest is a tail of small things.
const DRAGS_SHOWN = 5

/** `135 ConnectionPool (2.69 MB), 135 Monitor (1.17 MB), … and 23 more classes (1.2 MB)` */
function dragsText (drags: readonly LeakDrag[]): string {
  const shown = drags.slice(0, DRAGS_SHOWN).map((d) => `${count(d.count)} ${d.objectClass} (${bytes(d.bytes)})`)
  const rest = drags.slice(DRAGS_SHOWN)
  if (rest.length > 0) shown.push(`and ${rest.length} more ${rest.length === 1 ? 'class' : 'classes'} (${bytes(rest.reduce((sum, d) => sum + d.bytes, 0))})`)
  return shown.join(', ')
}

/**
 * `1.00 per POST /l1, 0 per GET /busy`; `≈ 1.00 per request, any route`; `none: not driven by
 * requests`; what the counts cannot tell after `cannot tell:` (`up to 1.75 per GET /busy`, `or`
 * between explanations that each fit alone).
 */
function sharesText (shares: readonly RouteShare[]): string {
  const everyRoute = shares.filter((s) => s.basis === 'any-route' && !s.ambiguous)
  if (everyRoute.length > 0 && everyRoute.length === shares.length) return `≈ ${perRequest((everyRoute[0] as RouteShare).objectsPerRequest)} per request, any route`
  const text = (share: RouteShare): string => share.basis === 'any-route'
    ? `≈ ${perRequest(share.objectsPerRequest)} per request, any route`
    : share.basis === 'no-request'
      ? 'not driven by requests'
      : `${share.basis === 'possible' ? 'up to ' : ''}${perRequest(share.objectsPerRequest)}${share.upTo === undefined ? '' : ` to ${perRequest(share.upTo)}`} per ${share.route}`
  const certain = shares.filter((s) => !s.ambiguous).map(text)
  const uncertain = shares.filter((s) => s.ambiguous)
  if (uncertain.length === 0) return certain.join(', ')
  const alternatives = uncertain.every((s) => s.basis !== 'possible')
  const told = uncertain.map(text).join(alternatives ? ', or ' : ', ')
  return certain.length === 0 ? `cannot tell: ${told}` : `${certain.join(', ')}; cannot tell: ${told}`
}

function perRequest (n: number): string {
  // A least-squares share this close to 0 is 0 within the fit's rounding.
  return Math.abs(n) < 0.005 ? '0' : n.toFixed(2)
}

function count (n: number): string {
  return n.toLocaleString('en-US')
}
