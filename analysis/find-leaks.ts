import { collectionOf, NO_COLLECTION } from './collection-of.js'
import { DefiningFiles, packageOfFile } from './defining-files.js'
import { computeDominators } from './dominators.js'
import type { Dominators } from './dominators.js'
import { edgeStarts } from './edge-starts.js'
import { leakCollection } from './leak-path.js'
import { isPluginFile } from './own-files.js'
import { lastingHolder, ReplacedHolders, suspendedFunction, weakMapEntry } from './lasting-holder.js'
import type { LeakCollection } from './leak-path.js'
import { leakRoots } from './leak-roots.js'
import { ClassGrowth } from './class-growth.js'
import { growingClasses } from './growing-classes.js'
import { COUNTED_NAME_TYPES, labelCounts } from './label-counts.js'
import { NONE } from './leak-group.js'
import type { ClassTally, Group, Tally } from './leak-group.js'
import { NodeKind, nodeKinds } from './node-kinds.js'
import { withAllocations } from './allocated-by.js'
import { HeapProfileFormatError } from './errors.js'
import type { LeakAllocation } from './allocated-by.js'
import { findGrowingSites } from './heap-profile/find-growing-sites.js'
import type { GrowingSitesReport } from './heap-profile/find-growing-sites.js'
import { birthsOfLast, earlierSnapshot } from './object-births.js'
import type { EarlierSnapshot } from './object-births.js'
import { PathShapes } from './path-shapes.js'
import { parseHeapSnapshot } from './read-snapshot.js'
import type { ReadProgress } from './read-snapshot.js'
import { isRequestCountMark, readRequestCounts } from './request-counts.js'
import type { RequestCounts } from './request-counts.js'
import { nodeLabel } from './retainer-labels.js'
import { CARRIER_CLASSES, PathDetours, passesDetour } from './path-detours.js'
import { retainerPathTo } from './retainer-paths.js'
import type { RetainerPath } from './retainer-paths.js'
import { buildRetainerTree, UNREACHED } from './retainer-tree.js'
import type { RetainerTree } from './retainer-tree.js'
import { attributeRoutes, intervalDurations, requestsPerInterval } from './route-attribution.js'
import type { RouteShare } from './route-attribution.js'
import type { HeapSnapshot } from './snapshot.js'
import { integerProblem } from '../plugin/integer-check.js'

export type { CollectionKind, LeakCollection } from './leak-path.js'

export interface FindLeaksOptions {
  /**
   * Report at most this many candidates.
   * @defaultValue 10
   */
  readonly top?: number
  /**
   * A candidate needs at least this many new objects still alive from every interval.
   * @defaultValue 1
   */
  readonly minPerInterval?: number
  /** Called as each file is read. */
  readonly onProgress?: (progress: FindLeaksProgress) => void
  /**
   * Sampling heap profiles of the same process (`GET /heap-profile`, taken beside the
   * snapshots): each candidate gets the growing allocation site that made its objects when the
   * profiles can tell it (`allocatedBy`).
   */
  readonly profiles?: readonly string[]
}

export interface FindLeaksProgress extends ReadProgress {
  readonly file: string
  /** Position of the file in the list, from 0. */
  readonly index: number
}

export interface LeakSnapshotSummary {
  readonly file: string
  readonly nodeCount: number
  /** From the plugin's request-count marks, when the snapshot carries them. */
  readonly pid?: number
  /** Completed responses per route since the process started, from the same marks. */
  readonly requestCounts?: Readonly<Record<string, number>>
}

export interface LeakStep {
  readonly label: string
  /** The edge to the next step (`.sessions`, `[3]`, `->ctx`); empty on the last step. */
  readonly edge: string
}

export interface LeakCandidate {
  /**
   * The class to look at: the leaking objects' own; for carriers (closures, contexts, timers,
   * built-ins) the named class they retain most of, else the named object that owns them.
   */
  readonly className: string
  /** The leaking objects' own class (`Session`, `Object`, `onTick()`, `Timeout`, `(string)`). */
  readonly objectClass: string
  /**
   * Present when the leaking objects are carriers (closures, bound functions, promise reactions,
   * timers, built-ins) and `className` is the named class they retain most of; `heldBy` is then
   * the named object on the retainer path that holds the carriers (`EventEmitter`, `TimersList`).
   */
  readonly carrier?: { readonly heldBy?: string }
  /** The retainer path with indexes and data-like keys blanked, e.g. `global.store → Store.sessions → Map{table} → …`. */
  readonly pathShape: string
  readonly collection: LeakCollection
  /** New objects allocated in each interval and still alive in the last snapshot. */
  readonly countPerInterval: number[]
  /** Their retained size with what they drag (see `drags`), per interval of their allocation, in bytes. */
  readonly bytesPerInterval: number[]
  /** Objects of the candidate alive in the last snapshot, over all intervals. */
  readonly liveCount: number
  /** What freeing them all would free, in bytes: the sum of their retained sizes and of what they drag. */
  readonly retainedBytes: number
  /**
   * New objects that are alive only because the candidate's objects hold them (every path from
   * the GC roots to them passes through them, directly or through one another: a leaked
   * connection's client, its pool, their timers), by class, most bytes first. They are not
   * candidates of their own; their bytes are in `bytesPerInterval` and `retainedBytes`.
   * Absent when there are none.
   */
  readonly drags?: LeakDrag[]
  /**
   * The collection's other new objects, by class, most bytes first, when the candidate is a
   * collection's entries (its keys beside its values, the parts of an entry V8 keeps apart):
   * one leak, one candidate. Their bytes are in `bytesPerInterval` and `retainedBytes`.
   */
  readonly entryParts?: LeakDrag[]
  /** The file that defines the leaking objects' class (or the carried class), when the snapshot names it. */
  readonly classFile?: string
  /** The named object that holds the collection (`Counter` for `Counter.hashMap`), and the file that defines its class. */
  readonly holder?: { readonly className: string, readonly file?: string }
  /**
   * The npm package the leak lives in: the holder's class's package, else that of the file whose
   * scope variable holds the collection, else the leaking class's, when that file is under
   * `node_modules` (`prom-client`, `@scope/name`).
   */
  readonly packageName?: string
  /**
   * A path from the GC roots to one of them (not through weak or shortcut edges): the shortest,
   * or when that passes a timer, an immediate, a tick or a bound function's bindings on the way,
   * the shortest that does not and still passes the collection (`shortestPath` then holds the other).
   */
  readonly retainerPath: LeakStep[]
  /** The shortest path, when `retainerPath` is a longer one around a timer or a bound function. */
  readonly shortestPath?: LeakStep[]
  /** Id of that object in the last snapshot (search `@id` in DevTools). */
  readonly sampleId: number
  /** Objects per completed request of each route, when the snapshots carry request counts. */
  readonly perRoute?: RouteShare[]
  /** What the request counts cannot tell about `perRoute` and how to make them tell it (a snapshot more, traffic that varies per route). */
  readonly perRouteNote?: string
  /** Where its objects were allocated, when heap profiles were given and tell it. */
  readonly allocatedBy?: LeakAllocation
  /**
   * True when what holds them is this plugin's own state (its recent snapshot jobs, its trend
   * window), bounded by its options though it grows like a leak until its bound: listed after
   * the others, and never a leak for `--fail-on`.
   */
  readonly pluginState?: boolean
}

export interface LeakDrag {
  /** The objects' own class, as `objectClass` names it. */
  readonly objectClass: string
  readonly count: number
  /** Their retained size (a part already counted in another dragged object's is not counted again). */
  readonly bytes: number
}

export interface LeakReport {
  readonly snapshots: LeakSnapshotSummary[]
  /** Completed responses per route in each interval, when every snapshot carries request counts. */
  readonly requestsPerInterval?: Array<Record<string, number>>
  /** What the reader should know about how sure the report is. */
  readonly notes: string[]
  readonly candidates: LeakCandidate[]
}

const MAX_SNAPSHOTS = 200
// At most this many of the plugin's own groups are listed (its jobs, its trend report and window).
const PLUGIN_GROUPS = 4
// Below this share of the previous snapshot's objects still found by id, the ids were reset
// (an inspector session closed in between, another process): matching by id means nothing.
const MIN_MATCHED_SHARE = 0.2

/**
 * Leak candidates across snapshots of one process, for a reader who does not know where the
 * leak is: objects allocated in each interval and still alive in the last snapshot, grouped
 * by their class and the shape of the path that retains them, kept when they grew in every
 * interval (what was only in flight at one snapshot drops out), ranked by the bytes they
 * retain per interval with what they drag. V8's internals are counted in the object that owns
 * them; new objects alive only because a candidate's objects hold them, in that candidate.
 */
export async function findLeaks (files: string[], options: FindLeaksOptions = {}): Promise<LeakReport> {
  const top = resolveCount(options.top, 10, 'top', 1)
  const minPerInterval = resolveCount(options.minPerInterval, 1, 'minPerInterval', 1)
  if (files.length < 2 || files.length > MAX_SNAPSHOTS) {
    throw new RangeError(`findLeaks needs 2 to ${MAX_SNAPSHOTS} snapshot files, got ${files.length}`)
  }
  const progressOf = (index: number): ((p: ReadProgress) => void) | undefined => options.onProgress === undefined
    ? undefined
    : (p) => options.onProgress?.({ ...p, file: files[index] as string, index })

  const earlier: EarlierSnapshot[] = []
  const summaries: LeakSnapshotSummary[] = []
  const marks: Array<RequestCounts | undefined> = []
  for (let i = 0; i < files.length - 1; i++) {
    // Of an earlier snapshot only the ids, the native nodes' counts and the request-count marks are used.
    const snapshot = await parseHeapSnapshot(files[i] as string, { edges: false, keepString: isRequestCountMark, keepNamesOfTypes: COUNTED_NAME_TYPES, onProgress: progressOf(i) })
    earlier.push(earlierSnapshot(snapshot))
    marks.push(readRequestCounts(snapshot))
    summaries.push(summaryOf(files[i] as string, snapshot, marks[i]))
  }
  const lastFile = files[files.length - 1] as string
  const last = await parseHeapSnapshot(lastFile, { onProgress: progressOf(files.length - 1) })
  marks.push(readRequestCounts(last))
  summaries.push(summaryOf(lastFile, last, marks[marks.length - 1]))

  const { births, survivors } = birthsOfLast(last, earlier)
  const notes = notesOn(files, summaries, survivors)
  const requests = requestsPerInterval(marks)
  const intervals = files.length - 1
  const ranked = rankedCandidates(last, births, new ClassGrowth(earlier[0] as EarlierSnapshot, labelCounts(last)), intervals, minPerInterval, top)
    .map((c): LeakCandidate => requests === undefined ? c : withRoutes(c, requests, intervalDurations(marks)))
  const candidates = options.profiles === undefined ? ranked : await joinProfiles(ranked, options.profiles, summaries, notes)
  if (requests === undefined && marks.some((m) => m !== undefined)) {
    notes.push('Only some snapshots carry request counts: growth per route is not shown.')
  }
  return requests === undefined
    ? { snapshots: summaries, notes, candidates }
    : { snapshots: summaries, requestsPerInterval: requests, notes, candidates }
}

/** The candidates with where their objects were allocated, when the profiles are of the snapshots' process. */
async function joinProfiles (candidates: LeakCandidate[], profiles: readonly string[], summaries: readonly LeakSnapshotSummary[], notes: string[]): Promise<LeakCandidate[]> {
  if (profiles.length < 2) {
    notes.push('One heap profile cannot tell which allocation sites grow: give two or more, taken beside the snapshots, to see where the candidates were allocated.')
    return candidates
  }
  let sites: GrowingSitesReport
  try {
    sites = await findGrowingSites(profiles, { top: Number.MAX_SAFE_INTEGER })
  } catch (err) {
    if (!(err instanceof HeapProfileFormatError)) throw err
    notes.push(`The heap profiles were not compared (${err.message}): no allocation site is told for the candidates.`)
    return candidates
  }
  const snapshotPids = new Set(summaries.flatMap((s) => s.pid === undefined ? [] : [s.pid]))
  const profilePids = new Set(sites.profiles.flatMap((p) => p.pid === undefined ? [] : [p.pid]))
  const other = [...profilePids].find((pid) => snapshotPids.size > 0 && !snapshotPids.has(pid))
  if (other !== undefined) {
    notes.push(`The heap profiles come from process ${other}, the snapshots from ${[...snapshotPids].join(', ')}: no allocation site is told for the candidates.`)
    return candidates
  }
  return withAllocations(candidates, sites)
}

function withRoutes (candidate: LeakCandidate, requests: ReadonlyArray<Record<string, number>>, durations: readonly number[] | undefined): LeakCandidate {
  const { shares, note } = attributeRoutes(candidate.countPerInterval, requests, durations)
  return note === undefined ? { ...candidate, perRoute: shares } : { ...candidate, perRoute: shares, perRouteNote: note }
}

function summaryOf (file: string, snapshot: HeapSnapshot, mark: RequestCounts | undefined): LeakSnapshotSummary {
  return mark === undefined
    ? { file, nodeCount: snapshot.nodeCount }
    : { file, nodeCount: snapshot.nodeCount, pid: mark.pid, requestCounts: mark.counts }
}

function notesOn (files: readonly string[], summaries: readonly LeakSnapshotSummary[], survivors: readonly number[]): string[] {
  const notes: string[] = []
  if (files.length === 2) {
    notes.push('Two snapshots make one interval: objects that were only in flight when the second was taken (requests, timers about to fire) ' +
      'look like leaks too. A third snapshot, after more of the same load, makes the candidates surer.')
  }
  const pids = new Set(summaries.flatMap((s) => s.pid === undefined ? [] : [s.pid]))
  if (pids.size > 1) {
    notes.push(`The snapshots come from different processes (pids ${[...pids].join(', ')}): object ids cannot be matched across them, ` +
      'so "new" and "still alive" mean nothing here. Take all snapshots from one process.')
  }
  survivors.forEach((found, k) => {
    const before = summaries[k] as LeakSnapshotSummary
    if (found < before.nodeCount * MIN_MATCHED_SHARE) {
      notes.push(`Only ${found} of the ${before.nodeCount} objects of ${before.file} are found by id in the last snapshot: ` +
        'the object ids were probably reset in between (another process, or an inspector session closed), and the candidates are unreliable.')
    }
  })
  return notes
}

/**
 * The leaking objects: new objects still alive in the last snapshot, each at the top of what
 * was newly retained (the nearest object above it in the dominator tree is older). Everything
 * they dominate, V8's internals included, counts in their retained size. Those alive only
 * because other leaking objects hold them are dragged by those (see `leakRoots`); the others
 * are grouped by class and path shape, with what they drag; the groups with `minPerInterval`
 * objects from every interval, best first.
 */
function rankedCandidates (snapshot: HeapSnapshot, births: Uint8Array, growth: ClassGrowth, intervals: number, minPerInterval: number, top: number): LeakCandidate[] {
  const dominators = computeDominators(snapshot)
  const kinds = nodeKinds(snapshot)
  const owner = nearestObjectAbove(dominators.idom, dominators.order, kinds, snapshot.rootOrdinal)
  const firstEdge = edgeStarts(snapshot.nodeEdgeCount)
  const tree = buildRetainerTree(snapshot, firstEdge)
  let around: RetainerTree | undefined
  const aroundDetours = (): RetainerTree => {
    if (around === undefined) {
      const detours = new PathDetours(snapshot)
      around = buildRetainerTree(snapshot, firstEdge, (edge) => detours.avoids(edge))
    }
    return around
  }
  const files = new DefiningFiles(snapshot, firstEdge)
  const leaking = leakingObjects(snapshot, tree, births, kinds, owner, new ReplacedHolders(snapshot, firstEdge, births))
  const { rootOf, nested } = leakRoots(snapshot, dominators, firstEdge, births, leaking)
  const shapes = new PathShapes(snapshot, tree)
  const carriers = carrierNames(snapshot)
  // One buffer of a node each for the walks below that need one, one after the other.
  const scratch = new Uint32Array(snapshot.nodeCount)
  const carried = carriedClasses(snapshot, dominators, kinds, carriers, births, leaking, scratch)
  const groups = new Map<string, number>()
  const groupList: Group[] = []
  const groupOf = new Uint32Array(snapshot.nodeCount).fill(NONE)
  leaking.forEach((node, i) => {
    if (rootOf[i] !== i) return
    const born = births[node] as number
    const objectClass = nodeLabel(snapshot, node)
    // A collection's entries are one leak whatever their classes (its keys, its values).
    const collection = collectionOf(snapshot, tree, kinds, births, node)
    const shape = collection === NO_COLLECTION ? shapes.ofMember(node) : 0
    // Carriers of one shape carrying different classes (the timers of two leaks in one timer list) are two leaks.
    const key = collection === NO_COLLECTION ? `${objectClass}\u0000${shape}\u0000${carried.get(node) ?? ''}` : `@${collection}`
    let index = groups.get(key)
    if (index === undefined) {
      index = groupList.length
      groups.set(key, index)
      const counts = new Float64Array(intervals)
      const bytes = new Float64Array(intervals)
      groupList.push({ objectClass, carrier: false, shape, collection, counts, bytes, liveCount: 0, retained: 0, sample: node, classes: new Map(), retains: new Map(), drags: new Map() })
    }
    groupOf[node] = index
    const group = groupList[index] as Group
    let tally = group.classes.get(objectClass)
    if (tally === undefined) {
      const carrier = kinds[node] !== NodeKind.APP || carriers[snapshot.nodeName[node] as number] === 1
      tally = { counts: new Float64Array(intervals), sample: node, carrier, dataKind: kinds[node] === NodeKind.DATA, count: 0, bytes: 0 }
      group.classes.set(objectClass, tally)
    }
    const retained = dominators.retainedSize[node] as number
    tally.counts[born - 1] = (tally.counts[born - 1] as number) + 1
    tally.count++
    tally.bytes += retained
    group.bytes[born - 1] = (group.bytes[born - 1] as number) + retained
    group.retained += retained
  })
  for (const group of groupList) nameByPrincipalClass(group, shapes)
  leaking.forEach((node, i) => {
    const root = leaking[rootOf[i] as number] as number
    if (root === node) return
    const group = groupList[groupOf[root] as number] as Group
    const bytes = nested[i] === 1 ? 0 : dominators.retainedSize[node] as number
    const born = births[root] as number
    group.bytes[born - 1] = (group.bytes[born - 1] as number) + bytes
    group.retained += bytes
    addTo(group.drags, nodeLabel(snapshot, node), bytes)
  })
  tallyCarried(snapshot, dominators, kinds, carriers, births, groupOf, groupList, scratch)
  const kept = groupList.map((group) => group.counts.every((n) => n >= minPerInterval) && growth.grew(group.objectClass, group.liveCount))
  const covered = coveredBy(snapshot, dominators, leaking, rootOf, groupOf, kept)
  const growing = growingClasses({ snapshot, births, kinds, dominators, tree, covered, intervals, minPerInterval, carriers, grew: growth.grew, firstEdge, shapes, owner, scratch })
  // Ranked by the smallest interval's bytes: a leak retains more in every interval, not in one.
  const ranked = [...groupList.filter((_, g) => kept[g] === true), ...growing]
    .sort((a, b) => Math.min(...b.bytes) - Math.min(...a.bytes) || b.liveCount - a.liveCount)
  // Named one by one (a candidate's paths cost a walk of the graph), the plugin's own bounded
  // state put after the app's leaks: those met before `top` of the app's, at most PLUGIN_GROUPS.
  const context = { snapshot, tree, aroundDetours, shapes, kinds, files, dominators, firstEdge, births }
  const app: LeakCandidate[] = []
  const own: LeakCandidate[] = []
  for (const group of ranked) {
    if (app.length === top) break
    const candidate = candidateOf(context, group)
    if (candidate.pluginState !== true) app.push(candidate)
    else if (own.length < PLUGIN_GROUPS) own.push(candidate)
  }
  return [...app, ...own].slice(0, top)
}

/**
 * A group's name, counts and sample come from its principal class: the one with the most bytes,
 * strings and numbers only when there is nothing else (a dictionary's values, not its keys).
 */
function nameByPrincipalClass (group: Group, shapes: PathShapes): void {
  let best: [string, ClassTally] | undefined
  for (const entry of group.classes) {
    const [, tally] = entry
    if (best === undefined || (best[1].dataKind && !tally.dataKind) || (best[1].dataKind === tally.dataKind && tally.bytes > best[1].bytes)) best = entry
  }
  if (best === undefined) return
  const [objectClass, tally] = best
  group.objectClass = objectClass
  group.carrier = tally.carrier
  group.counts = tally.counts
  group.liveCount = tally.count
  group.sample = tally.sample
  if (group.collection !== NO_COLLECTION) group.shape = shapes.ofMember(tally.sample)
}

/** 1 for every node a kept group accounts for: its leaking objects, those they drag, and all that these dominate. */
function coveredBy (snapshot: HeapSnapshot, dominators: Dominators, leaking: Uint32Array, rootOf: Uint32Array, groupOf: Uint32Array, kept: readonly boolean[]): Uint8Array {
  const covered = new Uint8Array(snapshot.nodeCount)
  leaking.forEach((node, i) => {
    if (kept[groupOf[leaking[rootOf[i] as number] as number] as number] === true) covered[node] = 1
  })
  const { idom, order } = dominators
  for (let k = 0; k < order.length; k++) {
    const node = order[k] as number
    if (node !== snapshot.rootOrdinal && covered[idom[node] as number] === 1) covered[node] = 1
  }
  return covered
}

/**
 * The new objects (not V8's internals, not empty) whose nearest object above in the dominator
 * tree is old, or new but a collection replaced since they were made (it holds older objects of
 * their class: `list = [...list, x]`), nearest to the GC roots first.
 */
function leakingObjects (snapshot: HeapSnapshot, tree: RetainerTree, births: Uint8Array, kinds: Uint8Array, owner: Uint32Array, replaced: ReplacedHolders): Uint32Array {
  const leaking = new Uint32Array(tree.reached)
  // V8's literal boilerplates: the first object a literal made, kept by its allocation site as a template, not by the app.
  const allocationSite = snapshot.strings.indexOf('system / AllocationSite')
  let length = 0
  for (let k = 0; k < tree.reached; k++) {
    const node = tree.order[k] as number
    if (births[node] === 0 || (kinds[node] as number) < NodeKind.DATA || snapshot.nodeSelfSize[node] === 0) continue
    if (snapshot.nodeName[tree.parent[node] as number] === allocationSite) continue
    const above = owner[node] as number
    if (above !== NONE && births[above] !== 0 && !replaced.holds(above, node)) continue
    leaking[length++] = node
  }
  return leaking.slice(0, length)
}

function addTo<K> (tallies: Map<K, Tally>, key: K, bytes: number, node?: number): void {
  const tally = tallies.get(key)
  if (tally === undefined) tallies.set(key, node === undefined ? { count: 1, bytes } : { count: 1, bytes, sample: node })
  else {
    tally.count++
    tally.bytes += bytes
  }
}

/** Per string index: 1 for the names of CARRIER_CLASSES. */
function carrierNames (snapshot: HeapSnapshot): Uint8Array {
  const flags = new Uint8Array(snapshot.strings.length)
  snapshot.strings.forEach((name, i) => { if (CARRIER_CLASSES.has(name)) flags[i] = 1 })
  return flags
}

/**
 * For each group of carriers: the objects of named classes they dominate, the topmost of each
 * branch only (a class's own parts do not count again), by class. One pass over the dominator
 * tree, each node after its dominator; `under[n]` is the carrier whose subtree `n` is in, or NONE
 * once a named object above it has been counted.
 */
function tallyCarried (snapshot: HeapSnapshot, dominators: Dominators, kinds: Uint8Array, carriers: Uint8Array, births: Uint8Array,
  groupOf: Uint32Array, groups: readonly Group[], under: Uint32Array): void {
  const { idom, order, retainedSize } = dominators
  const root = snapshot.rootOrdinal
  under[root] = NONE
  for (let k = 0; k < order.length; k++) {
    const node = order[k] as number
    if (node === root) continue
    const g = groupOf[node] as number
    if (g !== NONE) {
      under[node] = (groups[g] as Group).carrier ? node : NONE
      continue
    }
    const carrier = under[idom[node] as number] as number
    const name = snapshot.nodeName[node] as number
    if (carrier !== NONE && births[node] !== 0 && kinds[node] === NodeKind.APP && carriers[name] === 0) {
      addTo((groups[groupOf[carrier] as number] as Group).retains, name, retainedSize[node] as number, node)
      under[node] = NONE
    } else {
      under[node] = carrier
    }
  }
}

/**
 * Per leaking carrier (a closure, a timer, a reaction: not of a named class of its own), the
 * named class of the new objects it dominates with the most bytes (the top object of each
 * branch), one pass over the dominator tree as in `tallyCarried`.
 */
function carriedClasses (snapshot: HeapSnapshot, dominators: Dominators, kinds: Uint8Array, carriers: Uint8Array, births: Uint8Array, leaking: Uint32Array, under: Uint32Array): Map<number, number> {
  const { idom, order, retainedSize } = dominators
  const isCarrier = new Uint8Array(snapshot.nodeCount)
  for (const node of leaking) if (kinds[node] !== NodeKind.APP || carriers[snapshot.nodeName[node] as number] === 1) isCarrier[node] = 1
  under.fill(NONE)
  const bytes = new Map<number, Map<number, number>>()
  for (let k = 0; k < order.length; k++) {
    const node = order[k] as number
    if (node === snapshot.rootOrdinal) continue
    if (isCarrier[node] === 1) {
      under[node] = node
      continue
    }
    const carrier = under[idom[node] as number] as number
    const name = snapshot.nodeName[node] as number
    if (carrier !== NONE && births[node] !== 0 && kinds[node] === NodeKind.APP && carriers[name] === 0) {
      let tally = bytes.get(carrier)
      if (tally === undefined) bytes.set(carrier, tally = new Map())
      tally.set(name, (tally.get(name) ?? 0) + (retainedSize[node] as number))
    } else {
      under[node] = carrier
    }
  }
  const carried = new Map<number, number>()
  for (const [carrier, tally] of bytes) carried.set(carrier, [...tally].reduce((a, b) => (b[1] > a[1] ? b : a))[0])
  return carried
}

/** The named class a group of carriers retains most bytes of, held by at least half of them; undefined for none. */
function principalCarried (snapshot: HeapSnapshot, group: Group): string | undefined {
  let best: number | undefined
  let bestBytes = 0
  for (const [name, tally] of group.retains) {
    if (tally.count * 2 >= group.liveCount && tally.bytes > bestBytes) {
      best = name
      bestBytes = tally.bytes
    }
  }
  return best === undefined ? undefined : snapshot.strings[best]
}

/** Per node: the nearest strict dominator that is an object (built-in or named), NONE for none. */
function nearestObjectAbove (idom: Uint32Array, order: Uint32Array, kinds: Uint8Array, root: number): Uint32Array {
  const above = new Uint32Array(idom.length).fill(NONE)
  for (let k = 0; k < order.length; k++) {
    const node = order[k] as number
    if (node === root) continue
    const d = idom[node] as number
    above[node] = d !== root && (kinds[d] as number) >= NodeKind.BUILT_IN ? d : above[d] as number
  }
  return above
}

interface CandidateContext {
  readonly snapshot: HeapSnapshot
  readonly tree: RetainerTree
  /** The retainer tree that avoids Node's carriers and bound functions' bindings (see PathDetours), built when first asked for. */
  readonly aroundDetours: () => RetainerTree
  readonly shapes: PathShapes
  readonly kinds: Uint8Array
  readonly files: DefiningFiles
  readonly dominators: Dominators
  readonly firstEdge: Uint32Array
  readonly births: Uint8Array
}

function candidateOf (context: CandidateContext, group: Group): LeakCandidate {
  const { snapshot, shapes, kinds, files, dominators, firstEdge } = context
  const shortest = retainerPathTo(snapshot, context.tree, group.sample, group.objectClass)
  const { tree, path } = preferredPath(context, group, shortest)
  const carried = group.carrier ? principalCarried(snapshot, group) : undefined
  const owner = kinds[group.sample] === NodeKind.APP && carried === undefined ? undefined : namedOwner(snapshot, tree, kinds, group.sample)
  const prefix = shapes.text(group.shape)
  const found = leakCollection(path.steps)
  const collection = group.collection === NO_COLLECTION
    ? found
    : { ...found, entries: entriesOf(snapshot, firstEdge, group.collection), retainedBytes: dominators.retainedSize[group.collection] as number }
  const holderNode = namedOwnerNode(snapshot, tree, kinds, group.collection === NO_COLLECTION ? group.sample : group.collection, group.collection === NO_COLLECTION) ??
    collectionOwner(snapshot, tree, files, group.collection)
  const holderFile = holderNode === undefined ? undefined : files.of(holderNode)
  const classFile = files.of(carried === undefined ? group.sample : carriedSample(snapshot, group, carried) ?? group.sample)
  const parts = [...group.classes].filter(([name]) => name !== group.objectClass)
  const variable = group.collection === NO_COLLECTION ? undefined : variableAbove(snapshot, tree, files, group.collection)
  const lasting = lastingHolder(snapshot, tree, files, context.births, kinds, firstEdge, group.sample)
  const localOf = suspendedFunction(snapshot, tree, files, firstEdge, group.sample)
  const weakMap = weakMapEntry(snapshot, tree, group.sample)
  const scope = lasting?.variable ?? variable
  const packageName = [holderFile, scope?.file, localOf?.file, classFile].map((file) => file === undefined ? undefined : packageOfFile(file)).find((name) => name !== undefined)
  return {
    className: carried ?? owner ?? group.objectClass,
    objectClass: group.objectClass,
    ...(carried === undefined ? {} : { carrier: owner === undefined ? {} : { heldBy: owner } }),
    pathShape: prefix === '' ? group.objectClass : `${prefix} → ${group.objectClass}`,
    collection: {
      ...collection,
      ...(weakMap === undefined ? {} : { label: `${weakMap.label}, the value of its key ${weakMap.key}, alive` }),
      ...(lasting === undefined ? {} : { label: lasting.label, replacedOnUpdate: true }),
      ...(scope === undefined ? {} : { variable: scope }),
      ...(localOf === undefined ? {} : { localOf })
    },
    countPerInterval: [...group.counts],
    bytesPerInterval: [...group.bytes],
    liveCount: group.liveCount,
    retainedBytes: group.retained,
    ...(group.drags.size === 0 ? {} : { drags: dragsOf(group.drags) }),
    ...(parts.length === 0 ? {} : { entryParts: dragsOf(new Map(parts)) }),
    ...(classFile === undefined ? {} : { classFile }),
    ...(holderNode === undefined ? {} : { holder: holderFile === undefined ? { className: nodeLabel(snapshot, holderNode) } : { className: nodeLabel(snapshot, holderNode), file: holderFile } }),
    ...(packageName === undefined ? {} : { packageName }),
    ...([holderFile, scope?.file].some((file) => file !== undefined && isPluginFile(file)) ? { pluginState: true } : {}),
    retainerPath: leakSteps(path),
    ...(path === shortest ? {} : { shortestPath: leakSteps(shortest) }),
    sampleId: path.nodeId
  }
}

/**
 * The path a person would follow to the sample: the shortest one, unless it passes a timer or a
 * bound function and another path, avoiding them, still passes the group's collection (the
 * module variable that holds a cache, rather than the cache's check timer bound to it).
 */
function preferredPath (context: CandidateContext, group: Group, shortest: RetainerPath): { tree: RetainerTree, path: RetainerPath } {
  const { snapshot } = context
  if (!passesDetour(shortest.steps)) return { tree: context.tree, path: shortest }
  const around = context.aroundDetours()
  if (around.parent[group.sample] === UNREACHED) return { tree: context.tree, path: shortest }
  const path = retainerPathTo(snapshot, around, group.sample, group.objectClass)
  const collectionId = group.collection === NO_COLLECTION ? undefined : snapshot.nodeId[group.collection]
  if (collectionId !== undefined && !path.steps.some((step) => step.nodeId === collectionId)) return { tree: context.tree, path: shortest }
  return { tree: around, path }
}

// Edges out of synthetic nodes are bare indexes into V8's root lists: nothing to read.
function leakSteps (path: RetainerPath): LeakStep[] {
  return path.steps.map((step) => ({ label: step.label, edge: step.nodeType === 'synthetic' ? '' : step.edge ?? '' }))
}

// How far above a collection its variable may be: the collection itself, or the object that has it as a property.
const VARIABLE_REACH = 2

/**
 * The variable of a module or function scope that the collection's path passes just above it
 * (`const customerLookups = new Counter(...)` for `Counter.hashMap`), with the file of the
 * function whose scope it is.
 */
function variableAbove (snapshot: HeapSnapshot, tree: RetainerTree, files: DefiningFiles, collection: number): { name: string, file?: string } | undefined {
  let at = collection
  for (let step = 0; step < VARIABLE_REACH; step++) {
    const up = tree.parent[at] as number
    if (up === UNREACHED || up === snapshot.rootOrdinal) return undefined
    const edge = tree.parentEdge[at] as number
    if (snapshot.edgeTypeNames[snapshot.edgeType[edge] as number] === 'context') {
      const name = snapshot.strings[snapshot.edgeNameOrIndex[edge] as number] as string
      const fn = tree.parent[up] as number
      const file = fn === UNREACHED ? undefined : files.ofScopeHolder(fn)
      return file === undefined ? { name } : { name, file }
    }
    at = up
  }
  return undefined
}

/**
 * The object that has the collection as a property, when the snapshot knows the file that
 * defines it though it has no class of its own (see DefiningFiles.of): `Object.streams`.
 */
function collectionOwner (snapshot: HeapSnapshot, tree: RetainerTree, files: DefiningFiles, collection: number): number | undefined {
  if (collection === NO_COLLECTION) return undefined
  const owner = tree.parent[collection] as number
  if (owner === UNREACHED || owner === snapshot.rootOrdinal) return undefined
  const viaProperty = snapshot.edgeTypeNames[snapshot.edgeType[tree.parentEdge[collection] as number] as number] === 'property'
  return viaProperty && snapshot.nodeTypeNames[snapshot.nodeType[owner] as number] === 'object' && files.of(owner) !== undefined ? owner : undefined
}

/** One new object of the carried class, for the file that defines it: undefined when the carriers' tally kept none. */
function carriedSample (snapshot: HeapSnapshot, group: Group, className: string): number | undefined {
  for (const [name, tally] of group.retains) if (snapshot.strings[name] === className && tally.sample !== undefined) return tally.sample
  return undefined
}

/** A collection's entries: a dictionary's keys (its data-like properties and its slow properties), an array's elements, a Map's or Set's slots. */
function entriesOf (snapshot: HeapSnapshot, firstEdge: Uint32Array, collection: number): number {
  let entries = 0
  let store = -1
  const plain = /^[A-Za-z_$][A-Za-z_$]*$/
  for (let e = firstEdge[collection] as number, end = firstEdge[collection + 1] as number; e < end; e++) {
    const type = snapshot.edgeTypeNames[snapshot.edgeType[e] as number]
    const name = type === 'element' || type === 'hidden' ? '' : snapshot.strings[snapshot.edgeNameOrIndex[e] as number] as string
    if (type === 'element' || (type === 'property' && !plain.test(name))) entries++
    if (type === 'internal' && name === 'table') store = snapshot.edgeToNode[e] as number
  }
  if (entries === 0 && store !== -1) {
    // A Map's table holds a key and a value per entry (a Set's, a key), after a few header slots.
    const slots = (firstEdge[store + 1] as number) - (firstEdge[store] as number)
    entries = snapshot.strings[snapshot.nodeName[collection] as number] === 'Set' || snapshot.strings[snapshot.nodeName[collection] as number] === 'WeakSet' ? slots : Math.round(slots / 2)
  }
  return entries
}

function dragsOf (tallies: ReadonlyMap<string, Tally>): LeakDrag[] {
  return [...tallies]
    .map(([objectClass, tally]) => ({ objectClass, count: tally.count, bytes: tally.bytes }))
    .sort((a, b) => b.bytes - a.bytes || b.count - a.count)
}

/** The nearest object of a named class on the retainer path above `node`, the global objects aside. */
function namedOwner (snapshot: HeapSnapshot, tree: RetainerTree, kinds: Uint8Array, node: number): string | undefined {
  const at = namedOwnerNode(snapshot, tree, kinds, node, true)
  if (at === undefined) return undefined
  const owner = nodeLabel(snapshot, at)
  // A timer whose callback the path merely passes does not own what the callback reaches (`Timeout (its (string))`).
  return CARRIER_CLASSES.has(owner) && !CARRIER_CLASSES.has(nodeLabel(snapshot, node)) ? undefined : owner
}

/** The node `namedOwner` names; with `skipSameClass`, objects of `node`'s own class (a linked list) are passed. */
function namedOwnerNode (snapshot: HeapSnapshot, tree: RetainerTree, kinds: Uint8Array, node: number, skipSameClass: boolean): number | undefined {
  const root = snapshot.rootOrdinal
  const context = snapshot.edgeTypeNames.indexOf('context')
  const sameClass = (at: number): boolean => snapshot.nodeName[at] === snapshot.nodeName[node] && snapshot.nodeType[at] === snapshot.nodeType[node]
  for (let below = node, at = tree.parent[node] as number; at !== root && at !== UNREACHED; below = at, at = tree.parent[at] as number) {
    // A scope's variable holds what is below: what holds the scope's function (an observer, a
    // timer, an emitter) holds it only through the function, and is not its owner.
    if (snapshot.edgeType[tree.parentEdge[below] as number] === context) return undefined
    if (tree.parent[at] === root) return undefined
    if (kinds[at] === NodeKind.APP && !(skipSameClass && sameClass(at))) return at
  }
  return undefined
}

function resolveCount (value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback
  const problem = integerProblem(value, { min, name })
  if (problem !== null) throw new RangeError(problem)
  return value
}
