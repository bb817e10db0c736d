import t from 'tap'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { Session } from 'node:inspector'
import Fastify from 'fastify'
import { Profile } from 'pprof-format'
import { memoryDiagnostics } from '../../plugin/index.js'
import { AUTH, TOKEN, build } from '../helpers/build-app.js'

const KIB = 1024
// kept by the route below so that its allocations stay live, sampled or not
const kept: object[] = []

t.test('POST starts, a second POST with the same settings answers the running state, GET reads, DELETE stops', async (t) => {
  const { app } = await build(t, {}, { prefix: '/diag' })
  const started = await app.inject({ method: 'POST', url: '/diag/heap-profile?intervalBytes=4096', headers: AUTH })
  t.equal(started.statusCode, 201)
  t.match(started.json(), { available: true, running: true, intervalBytes: 4096, stackDepth: 128, since: String })
  const again = await app.inject({ method: 'POST', url: '/diag/heap-profile?intervalBytes=4096', headers: AUTH })
  t.equal(again.statusCode, 200, 'idempotent')
  t.same(again.json(), started.json(), 'the same sampling, the same since')
  const memory = (await app.inject({ url: '/diag/memory', headers: AUTH })).json()
  t.same(memory.heapProfile, started.json(), '/memory shows the profiler state')
  t.equal(memory.heapProfile.memory, null, 'and no memory figure before a read')

  const stopped = await app.inject({ method: 'DELETE', url: '/diag/heap-profile', headers: AUTH })
  t.equal(stopped.statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: '/diag/heap-profile', headers: AUTH })).statusCode, 204, 'stopping twice is fine')
  t.match((await app.inject({ url: '/diag/memory', headers: AUTH })).json().heapProfile, { running: false, intervalBytes: null, since: null })
  const notRunning = await app.inject({ url: '/diag/heap-profile', headers: AUTH })
  t.equal(notRunning.statusCode, 409)
  t.match(notRunning.json(), { code: 'FST_MEMDIAG_HEAP_PROFILE_NOT_RUNNING', message: /POST \/heap-profile/ })
})

t.test('/memory shows what the profiler held at the last read: samples, nodes and an estimate of its bytes; none before a read or after a stop', async (t) => {
  const { app } = await build(t, {}, { prefix: '/diag' })
  t.equal((await app.inject({ method: 'POST', url: '/diag/heap-profile?intervalBytes=1024', headers: AUTH })).statusCode, 201)
  const heapProfile = async () => (await app.inject({ url: '/diag/memory', headers: AUTH })).json().heapProfile
  t.equal((await heapProfile()).memory, null, 'nothing known before the first read')
  for (let i = 0; i < 2000; i++) kept.push({ i, payload: new Array(64).fill(i) })
  const res = await app.inject({ url: '/diag/heap-profile', headers: AUTH })
  const profile = res.json()
  let nodes = 0
  const count = (node: { children: unknown[] }): void => { nodes++; node.children.forEach((child) => count(child as { children: unknown[] })) }
  count(profile.head)
  const { memory } = await heapProfile()
  t.ok(profile.samples.length > 100, `${profile.samples.length} samples of ~1 MB kept at 1 KiB`)
  t.match(memory, { samples: profile.samples.length, nodes, readAt: String })
  t.equal(memory.estimatedBytes, 280 * (memory.samples + memory.nodes), '280 B per sample and per node, the high end measured')
  t.ok(Date.parse(memory.readAt) >= Date.parse(profile.memoryDiagnostics.takenAt) - 1000, 'from that read')
  t.equal((await app.inject({ method: 'DELETE', url: '/diag/heap-profile', headers: AUTH })).statusCode, 204)
  t.equal((await heapProfile()).memory, null, 'forgotten with the sampling it belonged to')
})

t.test('a POST with other settings while it runs is a 409 naming the running ones', async (t) => {
  const { app } = await build(t)
  t.equal((await app.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })).statusCode, 201)
  const res = await app.inject({ method: 'POST', url: '/heap-profile?intervalBytes=32768', headers: AUTH })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { statusCode: 409, code: 'FST_MEMDIAG_HEAP_PROFILE_SETTINGS_CONFLICT', error: 'Conflict', message: /intervalBytes=524288, stackDepth=128.*DELETE/ })
  const depth = await app.inject({ method: 'POST', url: '/heap-profile?stackDepth=8', headers: AUTH })
  t.equal(depth.json().code, 'FST_MEMDIAG_HEAP_PROFILE_SETTINGS_CONFLICT')
})

t.test('bad input is a 400 with the plugin\'s error shape', async (t) => {
  const { app } = await build(t)
  for (const url of [
    '/heap-profile?intervalBytes=1023', '/heap-profile?intervalBytes=1073741825', '/heap-profile?intervalBytes=abc',
    '/heap-profile?stackDepth=0', '/heap-profile?stackDepth=129', '/heap-profile?depth=3'
  ]) {
    const res = await app.inject({ method: 'POST', url, headers: AUTH })
    t.equal(res.statusCode, 400, url)
    t.match(res.json(), { statusCode: 400, code: 'FST_MEMDIAG_INVALID_REQUEST', error: 'Bad Request', message: String }, url)
  }
  t.equal((await app.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })).statusCode, 201)
  const format = await app.inject({ url: '/heap-profile?format=svg', headers: AUTH })
  t.equal(format.statusCode, 400)
  t.match(format.json(), { code: 'FST_MEMDIAG_INVALID_REQUEST', message: /allowed values/ })
})

t.test('every route needs credentials', async (t) => {
  const { app } = await build(t)
  for (const method of ['POST', 'GET', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/heap-profile' })
    t.equal(res.statusCode, 401, method)
    t.equal(res.json().code, 'FST_MEMDIAG_MISSING_CREDENTIALS')
  }
  t.match((await app.inject({ url: '/memory', headers: AUTH })).json().heapProfile, { running: false }, 'nothing was started')
})

t.test('another method is a 405 naming the three', async (t) => {
  const { app } = await build(t, {}, { prefix: '/diag' })
  const res = await app.inject({ method: 'PUT', url: '/diag/heap-profile', headers: AUTH })
  t.equal(res.statusCode, 405)
  t.equal(res.json().code, 'FST_MEMDIAG_METHOD_NOT_ALLOWED')
  t.same(String(res.headers.allow).split(/,\s*/).sort(), ['DELETE', 'GET', 'POST'])
})

t.test('the routes share one rate limit', async (t) => {
  const { app } = await build(t, { rateLimit: { heapProfile: { max: 2, timeWindow: 60_000 } } })
  t.equal((await app.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })).statusCode, 201)
  t.equal((await app.inject({ method: 'DELETE', url: '/heap-profile', headers: AUTH })).statusCode, 204)
  const limited = await app.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'FST_MEMDIAG_RATE_LIMITED')
})

t.test('continuous: true starts at registration; the JSON profile loads as DevTools reads it and carries the plugin\'s metadata', async (t) => {
  const { app } = await build(t, { heapProfile: { continuous: true, intervalBytes: 1024 } })
  t.match((await app.inject({ url: '/memory', headers: AUTH })).json().heapProfile, { running: true, intervalBytes: 1024 })
  const res = await app.inject({ url: '/heap-profile', headers: AUTH })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(res.headers['content-disposition'], new RegExp(`^attachment; filename="heap-${process.pid}-[0-9T-]+Z\\.heapprofile"$`))
  const profile = JSON.parse(res.body)
  t.match(profile.head, { callFrame: { functionName: '(root)' }, children: Array }, 'the tree DevTools loads')
  t.ok(profile.samples.length > 0, 'samples')
  t.match(profile.memoryDiagnostics, { v: 1, pid: process.pid, intervalBytes: 1024, stackDepth: 128, since: String, takenAt: String, routes: [], sourcePositions: {} })
})

t.test('the profile names each route\'s handler location and request count; pprof decodes with the route as a label', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, rateLimit: false, prefix: '/diag', heapProfile: { continuous: true, intervalBytes: 1024 } })
  app.get('/keep', async function keepSome () {
    await new Promise((resolve) => setImmediate(resolve))
    for (let i = 0; i < 200; i++) kept.push({ i, text: `kept ${i} ${Math.random()}` })
    return { kept: kept.length }
  })
  await app.ready()
  for (let i = 0; i < 20; i++) t.equal((await app.inject({ url: '/keep' })).statusCode, 200)
  const profile = JSON.parse((await app.inject({ url: '/diag/heap-profile', headers: AUTH })).body)
  const [route] = profile.memoryDiagnostics.routes
  t.match(route, { route: 'GET /keep', requests: 20, handler: { functionName: 'keepSome', url: /heap-profile\.test\.ts$/, scriptId: String } })
  const frames = framesOf(profile.head).filter((frame) => frame.functionName === 'keepSome')
  t.ok(frames.length > 0, 'the handler is on the stacks of its allocations (after its await too)')
  t.ok(frames.every((frame) => frame.scriptId === route.handler.scriptId && frame.lineNumber === route.handler.lineNumber && frame.columnNumber === route.handler.columnNumber),
    'at the very position the plugin recorded (Fastify binds handlers: the target\'s location)')

  const mapped = JSON.parse((await app.inject({ url: '/diag/heap-profile?sourceMaps=true', headers: AUTH })).body)
  const handler = mapped.memoryDiagnostics.routes[0].handler
  const source = mapped.memoryDiagnostics.sourcePositions[`${handler.url}:${handler.lineNumber}:${handler.columnNumber}`]
  const line = readFileSync(new URL(import.meta.url), 'utf8').split('\n').findIndex((text) => text.includes('async function keepSome')) + 1
  t.match(source, { url: import.meta.url, line }, '?sourceMaps=true: the handler\'s TypeScript line, through the source map tsx registered')

  const res = await app.inject({ url: '/diag/heap-profile?format=pprof', headers: AUTH })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/octet-stream')
  t.match(res.headers['content-disposition'], /\.pb\.gz"$/)
  const pprof = Profile.decode(gunzipSync(res.rawPayload))
  const text = (i: unknown) => pprof.stringTable.strings[Number(i)]
  t.same(pprof.sampleType.map((type) => `${text(type.type)}/${text(type.unit)}`), ['objects/count', 'space/bytes'])
  t.equal(Number(pprof.period), 1024)
  const comments = pprof.comment.map(text).join('\n')
  t.match(comments, new RegExp(`pid ${process.pid}`))
  t.match(comments, /requests GET \/keep=20/)
  const routeLabels = pprof.sample.flatMap((sample) => sample.label).filter((label) => text(label.key) === 'route').map((label) => text(label.str))
  t.ok(routeLabels.includes('GET /keep'), 'samples under the handler are labelled with its route')
  const functionNames = pprof.function.map((fn) => text(fn.name))
  t.ok(functionNames.includes('keepSome'))
})

t.test('stackDepth cuts each stack to its innermost frames', async (t) => {
  const { app } = await build(t, { heapProfile: { continuous: true, intervalBytes: 1024, stackDepth: 2 } })
  function deep (n: number): void {
    if (n > 0) return deep(n - 1)
    for (let i = 0; i < 2000; i++) kept.push({ i })
  }
  deep(10)
  const profile = JSON.parse((await app.inject({ url: '/heap-profile', headers: AUTH })).body)
  t.ok(depthOf(profile.head) <= 2, 'no stack deeper than 2 frames')
  const ids = new Set<number>()
  ;(function collect (node: { id: number, children: unknown[] }) { ids.add(node.id); node.children.forEach((c) => collect(c as typeof node)) })(profile.head)
  t.ok(profile.samples.every((sample: { nodeId: number }) => ids.has(sample.nodeId)), 'every sample points at a node of the cut tree')
})

t.test('another user of V8\'s heap profiler: a 409 with the reason, and its sampling left alone', async (t) => {
  const other = new Session()
  other.connect()
  t.teardown(() => other.disconnect())
  other.post('HeapProfiler.startSampling', { samplingInterval: 2048 })
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { code: 'FST_MEMDIAG_HEAP_PROFILER_BUSY', message: /another user of V8's heap profiler/ })
  let stillRunning = false
  other.post('HeapProfiler.getSamplingProfile', (error) => { stillRunning = error === null })
  t.ok(stillRunning, 'the other user\'s sampling still runs')
  other.post('HeapProfiler.stopSampling')

  t.equal((await app.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })).statusCode, 201, 'free again')
  other.post('HeapProfiler.stopSampling')
  const lost = await app.inject({ url: '/heap-profile', headers: AUTH })
  t.equal(lost.statusCode, 409)
  t.match(lost.json(), { code: 'FST_MEMDIAG_HEAP_PROFILER_BUSY', message: /stopped by another user/ })
  t.match((await app.inject({ url: '/memory', headers: AUTH })).json().heapProfile, { running: false, stoppedByOtherAt: String })
})

t.test('a second plugin instance gets a 409, and its continuous option fails registration', async (t) => {
  const { app: first } = await build(t, { heapProfile: { continuous: true } })
  const { app: second } = await build(t)
  const res = await second.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { code: 'FST_MEMDIAG_HEAP_PROFILER_BUSY', message: /another instance of fastify-memory-diagnostics/ })
  const third = Fastify()
  t.teardown(() => third.close())
  third.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, heapProfile: { continuous: true } })
  await t.rejects(async () => { await third.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message: /heapProfile.continuous.*another instance/ })
  await first.close()
  t.equal((await second.inject({ method: 'POST', url: '/heap-profile', headers: AUTH })).statusCode, 201, 'closing the first stopped its sampling')
})

t.test('close stops the sampling', async (t) => {
  const { app } = await build(t, { heapProfile: { continuous: true } })
  await app.close()
  const probe = new Session()
  probe.connect()
  t.teardown(() => probe.disconnect())
  let message = ''
  probe.post('HeapProfiler.getSamplingProfile', (error) => { message = error?.message ?? 'running' })
  t.match(message, /not started/)
})

t.test('invalid heapProfile options fail registration', async (t) => {
  for (const [heapProfile, message] of [
    ['yes', /`heapProfile` must be an object/],
    [{ continuous: 1 }, /`heapProfile.continuous` must be a boolean/],
    [{ intervalBytes: 512 }, /`heapProfile.intervalBytes` must be an integer from 1024 to 1073741824, got 512/],
    [{ intervalBytes: 2 ** 31 }, /`heapProfile.intervalBytes` must be an integer from 1024 to 1073741824, got 2147483648/],
    [{ intervalBytes: 4096.5 }, /`heapProfile.intervalBytes` must be an integer from 1024/],
    [{ stackDepth: 0 }, /`heapProfile.stackDepth` must be an integer from 1 to 128, got 0/],
    [{ stackDepth: 129 }, /`heapProfile.stackDepth` must be an integer from 1 to 128, got 129/]
  ] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(memoryDiagnostics, { auth: { tokens: [TOKEN] }, heapProfile } as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_MEMDIAG_INVALID_OPTION', message }, JSON.stringify(heapProfile))
  }
  const options = { auth: { tokens: [TOKEN] }, heapProfile: { intervalBytes: 8 * KIB } }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(memoryDiagnostics, options)
  t.same(options.heapProfile, { intervalBytes: 8 * KIB }, 'the options are not mutated')
})

t.test('the snapshot guard\'s refusal points at the heap profile', async (t) => {
  const { app } = await build(t, { snapshot: { maxHeapUsedBytes: 1 } }, { prefix: '/diag' })
  const refused = await app.inject({ method: 'POST', url: '/diag/heap-snapshot', headers: AUTH })
  t.equal(refused.statusCode, 503)
  t.match(refused.json().message, /the sampling heap profile is available: GET \/diag\/heap-profile/)
  const memory = (await app.inject({ url: '/diag/memory', headers: AUTH })).json()
  t.match(memory.snapshot, { allowed: false, reason: /the sampling heap profile is available: GET \/diag\/heap-profile/ })
})

function depthOf (node: { children: unknown[] }): number {
  return node.children.length === 0 ? 0 : 1 + Math.max(...node.children.map((child) => depthOf(child as typeof node)))
}

interface Frame { functionName: string, scriptId: string, lineNumber: number, columnNumber: number }
interface Node { callFrame: Frame, children: Node[] }

function framesOf (node: Node): Frame[] {
  return [node.callFrame, ...node.children.flatMap(framesOf)]
}
