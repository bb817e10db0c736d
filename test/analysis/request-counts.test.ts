import t from 'tap'
import { parseHeapSnapshot } from '../../analysis/read-snapshot.js'
import { readRequestCounts } from '../../analysis/request-counts.js'
import { attributeToRoutes, requestsPerInterval } from '../../analysis/route-attribution.js'
import { writeLeakSeries } from './leak-fixtures.js'

t.test('the latest mark a snapshot carries, flat or concatenated', async (t) => {
  const dir = t.testdir()
  // Two rounds of 5 leaking requests, each with 3 and 4 others: the second snapshot still holds the first mark too.
  const [, flat] = await writeLeakSeries(dir, { snapshots: 2, perRound: 5, marks: true, okPerLeak: [3, 4], prefix: 'flat' })
  const [, concatenated] = await writeLeakSeries(dir, { snapshots: 2, perRound: 5, marks: true, okPerLeak: [3, 4], prefix: 'cons', flatMarks: false })
  const expected = { 'POST /leak': 10, 'GET /ok': 15 + 20 }

  const fromFlat = readRequestCounts(await parseHeapSnapshot(flat as string, { edges: false }))
  t.same(fromFlat?.counts, expected, 'a flat mark is read without the edges')
  t.ok(Number.isInteger(fromFlat?.pid) && (fromFlat?.pid ?? 0) > 0 && fromFlat?.pid !== process.pid, 'the pid of the process that made it')
  t.ok(Math.abs((fromFlat?.at ?? 0) - Date.now()) < 600_000, 'at is a time in ms')

  const withEdges = await parseHeapSnapshot(concatenated as string)
  t.same(readRequestCounts(withEdges)?.counts, expected, 'a concatenated mark is rebuilt from its parts')
  t.equal(readRequestCounts(await parseHeapSnapshot(concatenated as string, { edges: false })), undefined,
    'without edges a concatenated mark cannot be read: producers flatten theirs')
})

t.test('a snapshot without marks has no counts', async (t) => {
  const [file] = await writeLeakSeries(t.testdir(), { snapshots: 1, perRound: 2 })
  t.equal(readRequestCounts(await parseHeapSnapshot(file as string)), undefined)
})

t.test('requests per interval are the differences of the cumulative counts', async (t) => {
  const mark = (pid: number, counts: Record<string, number>) => ({ pid, at: 1, counts })
  t.same(requestsPerInterval([mark(7, { a: 1 }), mark(7, { a: 5, b: 2 }), mark(7, { a: 6, b: 2 })]), [{ a: 4, b: 2 }, { a: 1, b: 0 }])
  t.equal(requestsPerInterval([mark(7, { a: 1 }), undefined]), undefined, 'one snapshot without counts: none')
  t.equal(requestsPerInterval([mark(7, { a: 1 }), mark(8, { a: 2 })]), undefined, 'two processes: none')
})

t.test('objects per request of each route', async (t) => {
  t.same(attributeToRoutes([10, 12], [{ a: 10 }, { a: 12, b: 0 }]), [{ route: 'a', objectsPerRequest: 1, ambiguous: false }], 'one route: a ratio')
  const fit = attributeToRoutes([100, 100], [{ leak: 100, ok: 300 }, { leak: 100, ok: 400 }])
  t.same(fit.map((s) => [s.route, Math.round(s.objectsPerRequest * 1000) / 1000, s.ambiguous]), [['leak', 1, false], ['ok', 0, false]])
  const clamped = attributeToRoutes([100, 130, 160], [{ a: 100, b: 50 }, { a: 100, b: 20 }, { a: 100, b: 0 }])
  t.ok(clamped.every((s) => s.objectsPerRequest >= 0), 'no negative share')
  const together = attributeToRoutes([20, 40], [{ a: 10, b: 20 }, { a: 20, b: 40 }])
  t.same(together.map((s) => [s.route, s.objectsPerRequest, s.ambiguous]), [['a', 2, true], ['b', 1, true]],
    'routes that always ran in proportion cannot be told apart: each as if alone, marked ambiguous')
  t.same(attributeToRoutes([3, 4], [{}, { a: 0 }]), [], 'no request: no share')
  const noisy = attributeToRoutes([200, 199], [{ leak: 200, busy: 2400 }, { leak: 200, busy: 1900 }])
  t.same(noisy.map((s) => [s.route, Math.round(s.objectsPerRequest * 1000) / 1000, s.ambiguous]), [['leak', 0.998, false], ['busy', 0, false]],
    'one object of noise between two intervals stays noise: the route that explains the objects alone gets them')
  const mixed = attributeToRoutes([300, 250, 350], [{ a: 100, b: 200 }, { a: 150, b: 100 }, { a: 50, b: 300 }])
  t.same(mixed.map((s) => [s.route, Math.round(s.objectsPerRequest * 1000) / 1000]), [['a', 1], ['b', 1]], 'two leaking routes: the fit')
})
