import t from 'tap'
import { findLeaks } from '../../analysis/find-leaks.js'
import { formatLeakReport } from '../../analysis/format-leaks.js'
import type { LeakCandidate, LeakReport } from '../../analysis/find-leaks.js'
import { leakSeries, writeProfiles } from './heap-profile-fixtures.js'
import { writeCarrierSeries, writeDragSeries, writeLeakSeries, writeNativeSeries, writeTimerSeries } from './leak-fixtures.js'

const PER_ROUND = 300
const INTERNALS = ['(array)', '(system)', 'system / Context', '(closure)', '(concatenated string)', '(object shape)', '(compiled code)', '(code)', '(hidden)']

const byClass = (report: LeakReport, objectClass: string): LeakCandidate[] => report.candidates.filter((c) => c.objectClass === objectClass)

t.test('three snapshots of a process leaking four ways under load', async (t) => {
  const dir = t.testdir()
  const files = await writeLeakSeries(dir, { snapshots: 3, perRound: PER_ROUND, marks: true })
  const report = await findLeaks(files, { top: 20 })

  t.test('the same class leaking through a Map and through an Array is two candidates', async (t) => {
    const twins = byClass(report, 'Twin')
    t.equal(twins.length, 2, twins.map((c) => c.pathShape).join(' | '))
    t.same(twins.map((c) => c.collection.kind).sort(), ['Array', 'Map'])
    t.not(twins[0]?.pathShape, twins[1]?.pathShape)
    for (const twin of twins) t.same(twin.countPerInterval, [PER_ROUND, PER_ROUND], `${twin.collection.kind}: one per request in each interval`)
    t.match(twins.find((c) => c.collection.kind === 'Map')?.collection.label, /\.twinsByKey → Map$/)
  })

  t.test('objects in flight at one snapshot and gone at the next drop out', async (t) => {
    t.same(byClass(report, 'InFlight'), [], 'InFlight is no candidate')
    t.notOk(report.candidates.some((c) => c.pathShape.includes('.inflight')), 'nor what holds them')
    t.same(report.notes, [], 'nothing to warn about')
  })

  t.test('V8 internals and built-ins are counted in the object that owns them', async (t) => {
    for (const c of report.candidates) {
      t.notOk(INTERNALS.includes(c.className), `${c.className} is not ranked on its own`)
      t.notOk(INTERNALS.includes(c.objectClass), `${c.objectClass} is not ranked on its own`)
    }
    const [listeners] = byClass(report, 'onEvt()')
    t.equal(listeners?.className, 'Hub', 'listener closures are attributed to their emitter')
    t.equal(listeners?.collection.kind, 'listeners')
    t.match(listeners?.collection.label, /^Hub\._events/)
    // Each closure dominates its context, the captured object and its string: far more than a closure's own 32 bytes.
    t.ok((listeners?.retainedBytes ?? 0) > (listeners?.liveCount ?? 0) * 100, `retained ${listeners?.retainedBytes} for ${listeners?.liveCount}`)
    t.equal(report.candidates[0]?.objectClass, 'onEvt()', 'the leak retaining the most per interval comes first')
  })

  t.test('app objects: count, bytes, path and growth per route', async (t) => {
    const [visitors] = byClass(report, 'Visitor')
    t.same(visitors?.countPerInterval, [PER_ROUND, PER_ROUND])
    t.equal(visitors?.liveCount, 2 * PER_ROUND)
    t.ok((visitors?.bytesPerInterval[0] ?? 0) > 0)
    t.equal(visitors?.retainedBytes, (visitors?.bytesPerInterval[0] ?? 0) + (visitors?.bytesPerInterval[1] ?? 0))
    t.match(visitors?.retainerPath.map((s) => s.label + s.edge).join(' → '), /global\.app → Object\.visitors → Array\[\d+\] → Visitor$/)
    t.same(report.requestsPerInterval, [
      { 'POST /leak': PER_ROUND, 'GET /ok': 3 * PER_ROUND },
      { 'POST /leak': PER_ROUND, 'GET /ok': 4 * PER_ROUND }
    ])
    const shares = Object.fromEntries((visitors?.perRoute ?? []).map((s) => [s.route, s.objectsPerRequest]))
    t.ok(Math.abs((shares['POST /leak'] ?? NaN) - 1) < 1e-6, `1 per POST /leak: ${shares['POST /leak']}`)
    t.ok(Math.abs(shares['GET /ok'] ?? NaN) < 1e-6, `0 per GET /ok: ${shares['GET /ok']}`)
    t.notOk(visitors?.perRoute?.some((s) => s.ambiguous))
    t.equal(report.snapshots.length, 3)
    t.ok(report.snapshots.every((s) => s.pid === report.snapshots[0]?.pid && s.pid !== undefined))
  })

  t.test('two snapshots: what was in flight shows, and the report says a third would be surer', async (t) => {
    const two = await findLeaks(files.slice(0, 2), { top: 50 })
    // A new array of new objects: the array is what was newly retained, its InFlight objects count in its retained size.
    const inFlight = two.candidates.find((c) => c.pathShape === 'global.inflight → Array')
    t.ok(inFlight !== undefined && inFlight.retainedBytes > PER_ROUND * 3 * 100, 'in flight at the second snapshot')
    t.match(two.notes.join('\n'), /A third snapshot/)
    t.same(byClass(two, 'Visitor')[0]?.countPerInterval, [PER_ROUND])
  })
})

t.test('timers never cleared and an array a closure holds', async (t) => {
  const report = await findLeaks(await writeTimerSeries(t.testdir()))
  const [timers] = byClass(report, 'Timeout')
  t.equal(timers?.collection.kind, 'timers')
  // The timer list is linked both ways: one candidate whichever end the shortest path came in by (all but the far end).
  t.ok((timers?.liveCount ?? 0) >= 399, `one candidate for the list: ${timers?.liveCount}`)
  t.same(timers?.countPerInterval.map((n) => n >= 199), [true, true])
  t.same(byClass(report, 'Job'), [], 'what each timer holds counts in its retained size')
  t.equal(timers?.className, 'Job', 'named by the app class each Timeout carries')
  t.same(timers?.carrier, { heldBy: 'TimersList' }, 'the timer list holds them, not the previous Timeout of the list')
  t.ok((timers?.retainedBytes ?? 0) > (timers?.liveCount ?? 0) * 100, 'the Job, its string and the closure in each Timeout')
  const [entries] = byClass(report, 'Entry')
  t.same(entries?.countPerInterval, [200, 200])
  t.match(entries?.collection.label, /system \/ Context->seen → Array$/)
  t.match(entries?.pathShape, /record\(\)\{context\} → system \/ Context->seen → Array\[\] → Entry$/)
})

t.test('carriers (closures, bound functions, promise reactions) are named by the app class they retain', async (t) => {
  const report = await findLeaks(await writeCarrierSeries(t.testdir()), { top: 20 })
  const named = (className: string): LeakCandidate | undefined => report.candidates.find((c) => c.className === className)
  const listeners = named('Quote')
  t.equal(listeners?.objectClass, '(anonymous)()', 'the listener closures are the leaking objects')
  t.equal(listeners?.collection.kind, 'listeners')
  t.same(listeners?.carrier, { heldBy: 'EventEmitter' }, 'and the emitter is still named')
  t.match(formatLeakReport(report), /\n\d+\. Quote \(retained by \(anonymous\)\(\) on EventEmitter\): 400 alive, retaining /)
  t.equal(named('Task')?.objectClass, 'native_bind()', 'bound functions')
  t.equal(named('Task')?.collection.kind, 'Array')
  t.same(named('Task')?.carrier, {}, 'carriers with no named holder on their path')
  t.match(formatLeakReport(report), /\n\d+\. Task \(retained by native_bind\(\)\): 400 alive, retaining /)
  t.match(named('Waiter')?.pathShape, /Promise\{reactions_or_result\} → system \/ PromiseReaction\{\} → \(anonymous\)\(\)$/, 'reactions to a promise never settled')
  t.same(named('Waiter')?.collection, { kind: 'promise', label: 'Object.never → Promise' }, 'held by the promise')
  t.equal(named('Session')?.collection.kind, 'Map', 'closures in a Map')
  for (const className of ['Quote', 'Task', 'Waiter', 'Session']) {
    t.same(named(className)?.countPerInterval, [200, 200], `${className}: one carrier per object in each interval`)
    t.same(byClass(report, className), [], `${className} is not a candidate of its own: its carrier is what was newly retained`)
  }
  const plain = report.candidates.find((c) => c.pathShape.includes('Object.plain'))
  t.equal(plain?.className, '(anonymous)()', 'a closure that retains no named class keeps its own name (no named owner on its path)')
  t.equal(plain?.carrier, undefined)
  const visits = report.candidates.find((c) => c.objectClass === 'Visit')
  t.equal(visits?.className, 'Visit', 'the objects of a Map in a scope variable are not named by the emitter whose listener reaches the scope')
  t.equal(visits?.holder, undefined, 'nor is the emitter their holder')
  t.equal(visits?.collection.variable?.name, 'visits', 'the scope variable is')
  t.same(visits?.countPerInterval, [200, 200])
})

t.test('what a leaking object drags along is listed under it, not ranked on its own', async (t) => {
  const report = await findLeaks(await writeDragSeries(t.testdir()), { top: 20 })
  const [first] = report.candidates
  t.equal(first?.objectClass, 'Conn', 'the object kept per request comes first, though each class it drags is bigger than it')
  const dragged = Object.fromEntries((first?.drags ?? []).map((d) => [d.objectClass, d]))
  t.same([dragged['Client']?.count, dragged['Topology']?.count, dragged['Pool']?.count, dragged['Timeout']?.count], [400, 400, 800, 800],
    'the chain Conn → Client → Topology → Pool and the Pools\' timers, though the timer list reaches all but the Conn')
  for (const objectClass of ['Client', 'Topology', 'Pool', 'Timeout']) t.same(byClass(report, objectClass), [], `${objectClass} is no candidate of its own`)
  const draggedBytes = (first?.drags ?? []).reduce((sum, d) => sum + d.bytes, 0)
  t.ok((first?.retainedBytes ?? 0) > draggedBytes && draggedBytes > 0, 'its bytes include what it drags')
  t.ok((dragged['Pool']?.bytes ?? 0) > 800 * 64 * 8, 'each Pool with its slots')
  t.equal(first?.retainedBytes, (first?.bytesPerInterval[0] ?? 0) + (first?.bytesPerInterval[1] ?? 0))
  t.match(formatLeakReport(report), /\n1\. Conn: 400 alive, retaining [^\n]+\n {3}per interval: [^\n]+\n {3}held by: [^\n]+\n(?: {3}held in: [^\n]+\n)? {3}drags: 800 Pool \([^)]+\), /)

  const [sessions] = byClass(report, 'Session')
  t.same(sessions?.countPerInterval, [200, 200], 'what an old array holds as well stays a candidate of its own')
  t.equal(dragged['Session'], undefined, 'and is not dragged by the Conn that holds it too')
})

t.test('native objects, whose ids change with every snapshot, are new only as far as their count grows', async (t) => {
  const files = await writeNativeSeries(t.testdir())
  for (const series of [files, [files[0] as string, files[2] as string]]) {
    const report = await findLeaks(series, { top: 20 })
    const natives = report.candidates.filter((c) => c.objectClass.startsWith('Node / '))
    t.same(natives.map((c) => `${c.objectClass} ${c.countPerInterval.join('/')}`), [],
      `${series.length} snapshots: the 300 histograms kept since before the first are no candidate (by their ids, all of them are new in each snapshot)`)
    const [meters] = byClass(report, 'Meter')
    t.same(meters?.countPerInterval, series.length === 3 ? [200, 200] : [400], 'the Meters kept per round are')
    t.ok((meters?.bytesPerInterval[0] ?? 0) > 200 * 64 * 1024, `and their bytes hold their native histograms' (${meters?.bytesPerInterval[0]} B)`)
  }
})

t.test('heap profiles beside the snapshots: of another process, or only one, tell nothing, and the report says why', async (t) => {
  const dir = t.testdir()
  const files = await writeLeakSeries(dir, { snapshots: 3, perRound: 50, marks: true })
  const profiles = writeProfiles(dir, leakSeries())
  const other = await findLeaks(files, { profiles })
  t.match(other.notes, [/^The heap profiles come from process 4242, the snapshots from \d+: no allocation site is told/])
  t.ok(other.candidates.every((c) => c.allocatedBy === undefined))
  const one = await findLeaks(files, { profiles: profiles.slice(0, 1) })
  t.match(one.notes, [/^One heap profile cannot tell which allocation sites grow/])
  const reversed = await findLeaks(files, { profiles: [...profiles].reverse() })
  t.match(reversed.notes, [/^The heap profiles were not compared \(.*was taken before.*\)/])
})

t.test('snapshots of two processes: the report says ids cannot be matched', async (t) => {
  const dir = t.testdir()
  const [first] = await writeLeakSeries(dir, { snapshots: 1, perRound: 10, marks: true, prefix: 'one' })
  const [second] = await writeLeakSeries(dir, { snapshots: 1, perRound: 10, marks: true, prefix: 'two' })
  const report = await findLeaks([first as string, second as string])
  t.match(report.notes.join('\n'), /different processes \(pids \d+, \d+\): object ids cannot be matched/)
  t.equal(report.requestsPerInterval, undefined, 'no growth per route across processes')
})

t.test('bad options and file lists are refused', async (t) => {
  await t.rejects(findLeaks(['only-one.heapsnapshot']), /needs 2 to 200 snapshot files, got 1/)
  await t.rejects(findLeaks(['a', 'b'], { top: 0 }), /top must be an integer >= 1/)
  await t.rejects(findLeaks(['a', 'b'], { minPerInterval: 1.5 }), /minPerInterval must be an integer >= 1/)
})
