import t from 'tap'
import { Agent, request as httpRequest } from 'node:http'
import type { OutgoingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { AUTH, TOKEN, build } from '../helpers/build-app.js'
import type { MemoryDiagnosticsOptions } from '../../plugin/index.js'

// Random requests over real HTTP against the plugin: no crash, no 2xx without the token, no 5xx
// but the headroom refusal, every error in the plugin's shape. FUZZ_REQUESTS=80000 for a long run.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1500)
const SEED = Number(process.env.FUZZ_SEED ?? 12)

function prng (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const METHODS = ['GET', 'GET', 'POST', 'DELETE', 'HEAD', 'PUT', 'PATCH', 'OPTIONS']
const ROUTES = ['/diag/memory', '/diag/gc-stats', '/diag/metrics', '/diag/heap-snapshot', '/diag/heap-snapshot/heap-1-2', '/diag', '/diag/', '/other']
const PIECES = ['', '/', '//', '/..', '/.', '/%2e%2e', '/%zz', '/%00', '/%ff', '/heap-snapshot', `/${'a'.repeat(101)}`, '/:id', '/*', '/é', ';x', '%20', '/memory']
const QUERIES = ['', '?', '?download=true', '?download=true&wait=false', '?wait=false', '?gzip=false', '?gzip=maybe', `?access_token=${TOKEN}`, '?a=1&a=2', '?__proto__=1', '?constructor[prototype]=1', '?%zz=1', '?download']
const AUTHS: Array<OutgoingHttpHeaders> = [
  {},
  AUTH,
  { authorization: `bearer ${TOKEN}` },
  { authorization: `Bearer ${TOKEN} ` },
  { authorization: `Bearer  ${TOKEN}x` },
  { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
  { authorization: 'Bearer' },
  { authorization: `Bearer ${'x'.repeat(5000)}` },
  { authorization: TOKEN },
  { cookie: `token=${TOKEN}` },
  { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
]

interface Answer { statusCode: number, body: string }

function send (agent: Agent, port: number, method: string, path: string, headers: OutgoingHttpHeaders, body: string | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let text = ''
      res.setEncoding('latin1')
      res.on('data', (chunk: string) => { if (text.length < 4096) text += chunk })
      res.on('end', () => resolve({ statusCode: res.statusCode!, body: text }))
    })
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}

t.test(`${REQUESTS} random requests: no crash, no auth bypass, no unexpected 5xx`, async (t) => {
  const random = prng(SEED)
  const pick = <T> (list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const snapshot = { dir: join(t.testdir(), 'snapshots'), maxHeapUsedBytes: 1024 }
  const apps = await Promise.all(([{ rateLimit: false }, {}] as Array<Partial<MemoryDiagnosticsOptions>>).map(async (options) => {
    const app = (await build(t, { rateLimit: {}, ...options, snapshot }, { prefix: '/diag' })).app
    await app.listen({ host: '127.0.0.1', port: 0 })
    return (app.server.address() as { port: number }).port
  }))
  const agent = new Agent({ keepAlive: true, maxSockets: 8 })
  t.teardown(() => agent.destroy())
  const counts = new Map<number, number>()
  const failures: string[] = []

  for (let i = 0; i < REQUESTS; i++) {
    const method = pick(METHODS)
    const path = pick(ROUTES) + (random() < 0.3 ? pick(PIECES) : '') + pick(QUERIES)
    const headers = { ...pick(AUTHS) }
    const body = method === 'POST' && random() < 0.3 ? pick(['{}', '{"a":', 'x'.repeat(2000)]) : null
    if (body !== null) headers['content-type'] = pick(['application/json', 'text/plain'])
    const port = apps[i % 2]!
    let answer: Answer
    try {
      answer = await send(agent, port, method, path, headers, body)
    } catch (error) {
      // Node's client refuses some paths itself (invalid characters): not a request the server saw
      if ((error as { code?: string }).code === 'ERR_UNESCAPED_CHARACTERS') continue
      // A request Node's parser refuses gets Fastify's 400 with a body, even to a HEAD (the server
      // could not read the method): the client then reads that body as the next response.
      if (method === 'HEAD' && (error as { code?: string }).code?.startsWith('HPE_') === true) continue
      failures.push(`${method} ${path} ${JSON.stringify(headers).slice(0, 80)}: ${String(error)}`)
      break
    }
    counts.set(answer.statusCode, (counts.get(answer.statusCode) ?? 0) + 1)
    const what = `${method} ${path.slice(0, 80)} ${JSON.stringify(headers).slice(0, 60)} → ${answer.statusCode} ${answer.body.slice(0, 120)}`
    const underPrefix = /^\/diag([/?]|$)/.test(path)
    // Node's HTTP parser refused the request (a non-ASCII path, say) before Fastify saw it
    const refusedByNode = answer.statusCode === 400 && answer.body.includes('"message":"Client Error"')
    const credentials = headers.authorization === AUTH.authorization || headers.authorization === `bearer ${TOKEN}` || headers.authorization === `Bearer ${TOKEN} `
    if (underPrefix && answer.statusCode < 300 && !credentials) failures.push(`no valid token but ${what}`)
    if (answer.statusCode >= 500 && !(answer.statusCode === 503 && answer.body.includes('FST_MEMDIAG_INSUFFICIENT_HEADROOM'))) failures.push(`unexpected ${what}`)
    if (underPrefix && !refusedByNode && answer.statusCode >= 400 && method !== 'HEAD' && !(method === 'OPTIONS' && answer.statusCode === 404)) {
      const parsed = (() => { try { return JSON.parse(answer.body) as Record<string, unknown> } catch { return null } })()
      if (parsed === null || typeof parsed.statusCode !== 'number' || typeof parsed.code !== 'string' || typeof parsed.error !== 'string' || typeof parsed.message !== 'string') {
        failures.push(`not in the error shape: ${what}`)
      }
    }
    if (failures.length >= 10) break
  }
  t.same(failures, [], 'every answer as expected')
  t.comment(`status codes: ${JSON.stringify(Object.fromEntries([...counts].sort(([a], [b]) => a - b)))}`)
  const alive = await send(agent, apps[0]!, 'GET', '/diag/gc-stats', AUTH, null)
  t.equal(alive.statusCode, 200, 'the server still answers')
  t.ok(counts.size > 4, 'the requests reached many different answers')
})
