import t from 'tap'
import { withAllocations } from '../../analysis/allocated-by.js'
import type { LeakCandidate } from '../../analysis/find-leaks.js'
import type { AppCallSite, GrowingSite, GrowingSitesReport, SiteFrame } from '../../analysis/heap-profile/find-growing-sites.js'

const APP = 'file:///srv/app.mjs'
const LIB = '/srv/node_modules/prom-client/lib/counter.js'
const frame = (functionName: string, url: string, line = 1): SiteFrame => ({ functionName, url, line, column: 1 })
const ROUTE = { route: 'GET /items/:id', requests: 400, bytesPerRequest: 200 }

function candidate (over: Partial<LeakCandidate>): LeakCandidate {
  return {
    className: 'Session',
    objectClass: 'Session',
    pathShape: '',
    collection: { kind: 'Map', label: 'Map' },
    countPerInterval: [200, 200],
    bytesPerInterval: [40_000, 40_000],
    liveCount: 400,
    retainedBytes: 80_000,
    retainerPath: [],
    sampleId: 1,
    perRoute: [{ route: ROUTE.route, objectsPerRequest: 1, ambiguous: false, basis: 'alone' }],
    ...over
  }
}

function site (stack: SiteFrame[], growthBytes: number, route = ROUTE): GrowingSite {
  return { ...stack[0]!, bytes: [0, growthBytes / 2, growthBytes], growthBytes, stack, route }
}

function call (frameAt: SiteFrame, callee: SiteFrame | null, growthBytes: number, route = ROUTE): AppCallSite {
  return { frame: frameAt, callee, bytes: [0, growthBytes], growthBytes, route }
}

function report (sites: GrowingSite[], appCalls: AppCallSite[] = []): GrowingSitesReport {
  return { profiles: [], sites, growingCount: sites.length, appCalls, notes: [] }
}

const handler = frame('getItem', APP, 30)

t.test('the growing site whose stack holds the class\'s constructor', async (t) => {
  const sites = report([
    site([frame('other', APP, 5), handler], 90_000),
    site([frame('payload', APP, 3), frame('Session', APP, 10), handler], 70_000)
  ])
  const [found] = withAllocations([candidate({ classFile: APP })], sites)
  t.equal(found?.allocatedBy?.basis, 'constructor')
  t.same(found?.allocatedBy?.stack.map((f) => f.functionName), ['payload', 'Session', 'getItem'])
  t.equal(found?.allocatedBy?.growthBytes, 70_000)
  t.equal(found?.allocatedBy?.route?.route, ROUTE.route)
  const [elsewhere] = withAllocations([candidate({ classFile: '/srv/node_modules/x/session.js', perRoute: [] })], sites)
  t.equal(elsewhere?.allocatedBy, undefined, 'a frame of the same name in another file is another class')
  const [plain] = withAllocations([candidate({ className: 'Object', objectClass: 'Object', perRoute: [] })], report([site([frame('Object', APP)], 80_000)]))
  t.equal(plain?.allocatedBy, undefined, 'Object is made by literals: no frame names it')
})

t.test('by route: the app function most of the route\'s growth went through, with the library it called', async (t) => {
  const inc = frame('inc', LIB, 40)
  const calls = [call(handler, inc, 60_000), call(handler, null, 15_000), call(frame('log', APP, 80), null, 10_000)]
  const [found] = withAllocations([candidate({ className: 'Counter', objectClass: 'Object' })], report([], calls))
  t.equal(found?.allocatedBy?.basis, 'route')
  t.same(found?.allocatedBy?.stack.map((f) => f.functionName), ['inc', 'getItem'])
  t.equal(found?.allocatedBy?.packageName, 'prom-client')
  t.equal(found?.allocatedBy?.growthBytes, 75_000, 'all that grew through the handler')
  t.equal(found?.allocatedBy?.share, 75_000 / 85_000)
  t.equal(found?.allocatedBy?.route?.bytesPerRequest, Math.round(75_000 / ROUTE.requests))

  const split = [call(handler, inc, 30_000), call(handler, null, 30_000)]
  const [own] = withAllocations([candidate({ className: 'Counter', objectClass: 'Object' })], report([], split))
  t.same(own?.allocatedBy?.stack.map((f) => f.functionName), ['getItem'], 'no callee named when none holds most of it')
  t.equal(own?.allocatedBy?.packageName, undefined)
})

t.test('by route, nothing is claimed that the figures do not bear', async (t) => {
  const calls = [call(handler, null, 40_000), call(frame('log', APP, 80), null, 40_000)]
  const none = (c: LeakCandidate, sites: GrowingSitesReport): void => {
    t.equal(withAllocations([c], sites)[0]?.allocatedBy, undefined)
  }
  none(candidate({ objectClass: 'Object', className: 'Object' }), report([], calls))
  const one = [call(handler, null, 80_000)]
  none(candidate({ objectClass: 'Object', className: 'Object', bytesPerInterval: [400, 500] }), report([], one))
  none(candidate({ objectClass: 'Object', className: 'Object', bytesPerInterval: [400_000, 500_000] }), report([], one))
  none(candidate({ objectClass: 'Object', className: 'Object', perRoute: [{ route: ROUTE.route, objectsPerRequest: 1, ambiguous: true, basis: 'as-if-alone' }] }), report([], one))
  none(candidate({
    objectClass: 'Object',
    className: 'Object',
    perRoute: [{ route: ROUTE.route, objectsPerRequest: 1, ambiguous: false, basis: 'fit' }, { route: 'GET /b', objectsPerRequest: 0.5, ambiguous: false, basis: 'fit' }]
  }), report([], one))
  none(candidate({ objectClass: 'Object', className: 'Object' }), report([], [call(handler, null, 80_000, { ...ROUTE, route: 'GET /other' })]))
})
