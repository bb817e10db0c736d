import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import Fastify from 'fastify'
import { MongoClient } from 'mongodb'
import mongoose from 'mongoose'
import t from 'tap'
import type { Test } from 'tap'
import { buildApp } from '../../demo-app/app.js'
import type { DemoAppOptions } from '../../demo-app/app.js'
import { startDatabase } from '../../demo-app/database/launcher.js'
import { sessionsRoutes } from '../../demo-app/routes/sessions.js'

const database = await startDatabase()
t.teardown(() => database.stop())
const databasePort = Number(new URL(database.uri).port)
const mongo = await new MongoClient(database.uri).connect()
t.teardown(() => mongo.close())

const token = randomBytes(24).toString('base64url')
const run = randomBytes(3).toString('hex')
const tenant = (name: string): string => `${name}-${run}`

async function build (test: Test, options: Partial<DemoAppOptions> = {}) {
  const app = await buildApp({ mongoUri: database.uri, diagnosticsToken: token, ...options })
  test.teardown(() => app.close())
  return app
}

const aPost = (tenantName: string, n = 1) => ({ tenant: tenantName, title: `post ${n}`, content: `content of post ${n}`, author: 'ada' })

/** Established TCP sockets from this process to the database port (client side only). */
function socketsToDatabase (): number {
  const ownSockets = new Set<string>()
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      continue // the fd of readdir itself, closed by now
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1]
    if (inode !== undefined) ownSockets.add(inode)
  }
  let count = 0
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      const remotePort = Number.parseInt(fields[2]?.split(':')[1] ?? '', 16)
      if (fields[3] === '01' && remotePort === databasePort && ownSockets.has(fields[9] ?? '')) count++
    }
  }
  return count
}

t.test('POST /posts writes into the tenant database, GET /posts reads it back', async (t) => {
  const app = await build(t)
  const alpha = tenant('alpha')
  const beta = tenant('beta')

  const created = await app.inject({ method: 'POST', url: '/posts', payload: aPost(alpha, 1) })
  t.equal(created.statusCode, 201)
  const post = created.json()
  t.match(post, { id: /^[0-9a-f]{24}$/, tenant: alpha, title: 'post 1', author: 'ada' })
  t.ok(Number.isFinite(Date.parse(post.createdAt)), 'createdAt is a date')
  t.notOk('content' in post, 'the answer does not echo the content')
  await app.inject({ method: 'POST', url: '/posts', payload: aPost(alpha, 2) })
  await app.inject({ method: 'POST', url: '/posts', payload: aPost(alpha, 3) })
  await app.inject({ method: 'POST', url: '/posts', payload: aPost(beta, 1) })

  const stored = await mongo.db(alpha).collection('posts').find().sort({ _id: 1 }).toArray()
  t.same(stored.map((doc) => [doc._id.toString(), doc.title, doc.content, doc.author]), [
    [post.id, 'post 1', 'content of post 1', 'ada'],
    [stored[1]?._id.toString(), 'post 2', 'content of post 2', 'ada'],
    [stored[2]?._id.toString(), 'post 3', 'content of post 3', 'ada']
  ], 'the documents are in database <tenant>, collection posts')
  t.equal(await mongo.db(beta).collection('posts').countDocuments(), 1)

  const listed = await app.inject({ method: 'GET', url: `/posts?tenant=${alpha}` })
  t.equal(listed.statusCode, 200)
  t.same(listed.json().posts.map((p: { title: string }) => p.title), ['post 3', 'post 2', 'post 1'], 'newest first')
  t.ok(listed.json().posts.every((p: { tenant: string }) => p.tenant === alpha))

  const limited = await app.inject({ method: 'GET', url: `/posts?tenant=${alpha}&limit=2` })
  t.same(limited.json().posts.map((p: { title: string }) => p.title), ['post 3', 'post 2'])

  const other = await app.inject({ method: 'GET', url: `/posts?tenant=${beta}` })
  t.same(other.json().posts.map((p: { title: string }) => p.title), ['post 1'], "tenant alpha's posts are not visible in beta")
  const empty = await app.inject({ method: 'GET', url: `/posts?tenant=${tenant('nobody')}` })
  t.same(empty.json(), { tenant: tenant('nobody'), posts: [] })
})

t.test('POST /leaking-posts answers the same, in the same database', async (t) => {
  const app = await build(t)
  const gamma = tenant('gamma')
  const created = await app.inject({ method: 'POST', url: '/leaking-posts', payload: aPost(gamma) })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { id: /^[0-9a-f]{24}$/, tenant: gamma, title: 'post 1', author: 'ada' })
  const listed = await app.inject({ method: 'GET', url: `/posts?tenant=${gamma}` })
  t.same(listed.json().posts.map((p: { id: string }) => p.id), [created.json().id])
})

t.test('bad bodies and tenant names are refused with 400', async (t) => {
  const app = await build(t)
  const good = aPost(tenant('delta'))
  const { tenant: _tenant, ...withoutTenant } = good
  const badBodies: Array<[string, unknown]> = [
    ['no tenant', withoutTenant],
    ['no title', { ...good, title: undefined }],
    ['empty author', { ...good, author: '' }],
    ['title too long', { ...good, title: 'x'.repeat(201) }],
    ['content too long', { ...good, content: 'x'.repeat(20_001) }],
    ['unknown field', { ...good, published: true }],
    ['content is an object', { ...good, content: { $gt: '' } }],
    ['upper-case tenant', { ...good, tenant: 'Acme' }],
    ['tenant with a dot', { ...good, tenant: 'acme.blog' }],
    ['tenant too long', { ...good, tenant: 'a'.repeat(41) }],
    ['reserved database name', { ...good, tenant: 'admin' }],
    ['not an object', [good]]
  ]
  for (const url of ['/posts', '/leaking-posts']) {
    for (const [why, payload] of badBodies) {
      const res = await app.inject({ method: 'POST', url, payload: payload as object })
      t.equal(res.statusCode, 400, `${url}: ${why}`)
    }
  }
  for (const query of ['', 'tenant=Acme', `tenant=${good.tenant}&limit=0`, `tenant=${good.tenant}&limit=101`, `tenant=${good.tenant}&sort=title`]) {
    const res = await app.inject({ method: 'GET', url: `/posts?${query}` })
    t.equal(res.statusCode, 400, `GET /posts?${query}`)
  }
  t.equal(await mongo.db(good.tenant).collection('posts').countDocuments(), 0, 'nothing was written')
})

t.test('the leak is real: /leaking-posts adds a connection and sockets per request, /posts does not', async (t) => {
  const requests = 50
  const tenants = ['one', 'two', 'three', 'four', 'five'].map(tenant)
  const beforeApp = { connections: mongoose.connections.length, sockets: socketsToDatabase() }
  const app = await build(t)
  // One request per tenant first: the correct path may open its pooled socket on first use.
  for (const name of tenants) await app.inject({ method: 'POST', url: '/posts', payload: aPost(name) })

  const beforeCorrect = { connections: mongoose.connections.length, sockets: socketsToDatabase() }
  for (let i = 0; i < requests; i++) {
    const res = await app.inject({ method: 'POST', url: '/posts', payload: aPost(tenants[i % tenants.length] as string, i) })
    t.equal(res.statusCode, 201)
  }
  t.equal(mongoose.connections.length, beforeCorrect.connections, '/posts: no new Mongoose connection')
  t.ok(socketsToDatabase() - beforeCorrect.sockets <= 1, '/posts: no new socket per request (at most the driver\'s RTT monitor)')
  const afterCorrect = (await app.inject({ method: 'GET', url: '/stats' })).json()
  t.equal(afterCorrect.tenantConnections, tenants.length, 'one useDb connection per tenant')
  t.equal(afterCorrect.mongooseConnections, mongoose.connections.length)

  const beforeLeaking = { connections: mongoose.connections.length, sockets: socketsToDatabase() }
  for (let i = 0; i < requests; i++) {
    const res = await app.inject({ method: 'POST', url: '/leaking-posts', payload: aPost(tenants[i % tenants.length] as string, i) })
    t.equal(res.statusCode, 201)
  }
  t.equal(mongoose.connections.length - beforeLeaking.connections, requests, '/leaking-posts: one more Mongoose connection per request')
  t.ok(socketsToDatabase() - beforeLeaking.sockets >= requests, '/leaking-posts: at least one more open socket per request')
  const afterLeaking = (await app.inject({ method: 'GET', url: '/stats' })).json()
  t.equal(afterLeaking.mongooseConnections - afterCorrect.mongooseConnections, requests)
  t.equal(afterLeaking.tenantConnections, tenants.length)
  const leaked = mongoose.connections.slice(beforeLeaking.connections)
  t.ok(leaked.every((connection) => connection.readyState === 1 && Object.keys(connection.models).join() === 'Post'),
    'every leaked connection is open and holds a compiled Post model')
  t.equal(new Set(leaked.map((connection) => connection.models.Post)).size, requests, 'a different model each time')

  await app.close()
  t.equal(mongoose.connections.length, beforeApp.connections, 'closing the app destroys the leaked connections and the base one')
  t.ok(socketsToDatabase() <= beforeApp.sockets, 'and closes their sockets')
})

t.test('sessions: the Map keeps every failed checkout, the LRU cache stays bounded', async (t) => {
  const requests = 50
  const max = 5
  const app = await build(t, { sessions: { max } })
  const order = (i: number) => ({
    tenant: tenant('shop'),
    user: `reader-${i}`,
    plan: i % 2 === 0 ? 'monthly' : 'yearly',
    // The load mix: one checkout in five comes with an expired coupon, some with a valid one.
    ...(i % 5 === 4 ? { coupon: 'SPRING23' } : i % 5 === 1 ? { coupon: 'WELCOME10' } : {})
  })

  const statuses = { leaking: [] as number[], bounded: [] as number[] }
  for (let i = 0; i < requests; i++) {
    statuses.leaking.push((await app.inject({ method: 'POST', url: '/leaking-sessions', payload: order(i) })).statusCode)
    statuses.bounded.push((await app.inject({ method: 'POST', url: '/sessions', payload: order(i) })).statusCode)
  }
  const failed = requests / 5
  t.equal(statuses.leaking.filter((s) => s === 422).length, failed)
  t.equal(statuses.leaking.filter((s) => s === 201).length, requests - failed)
  t.same(statuses.bounded, statuses.leaking, 'both routes answer the same')

  const stats = (await app.inject({ method: 'GET', url: '/stats' })).json()
  t.same(stats.sessions, { leaking: failed, bounded: max }, 'one session left per failed checkout, bounded by max in the LRU cache')

  const success = await app.inject({ method: 'POST', url: '/leaking-sessions', payload: order(0) })
  t.equal(success.statusCode, 201)
  t.match(success.json(), { sessionId: /^[0-9a-f-]{36}$/, status: 'completed', totalCents: 500, cacheSize: failed })
  const discounted = await app.inject({ method: 'POST', url: '/sessions', payload: order(1) })
  // Full LRU cache: storing this session evicted the oldest one, completing it removed it.
  t.match(discounted.json(), { status: 'completed', totalCents: 4500, cacheSize: max - 1 })

  const expired = await app.inject({ method: 'POST', url: '/leaking-sessions', payload: order(4) })
  t.equal(expired.statusCode, 422)
  t.same(expired.json(), {
    statusCode: 422,
    code: 'DEMO_COUPON_REJECTED',
    error: 'Unprocessable Entity',
    message: 'Coupon SPRING23 is expired',
    cacheSize: failed + 1
  })
  const unknown = await app.inject({ method: 'POST', url: '/sessions', payload: { ...order(0), coupon: 'FREEBIE' } })
  t.match(unknown.json(), { message: 'Coupon FREEBIE is unknown', cacheSize: max })
  t.equal((await app.inject({ method: 'GET', url: '/stats' })).json().sessions.bounded, max, 'still bounded')

  for (const payload of [{ ...order(0), plan: 'weekly' }, { ...order(0), coupon: 'lower' }, { ...order(0), extra: 1 }, { plan: 'monthly' }]) {
    t.equal((await app.inject({ method: 'POST', url: '/leaking-sessions', payload })).statusCode, 400)
  }
  t.equal((await app.inject({ method: 'GET', url: '/stats' })).json().sessions.leaking, failed + 1, 'bad bodies store nothing')
})

t.test('a failing session store is a 500, not a rejected coupon', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const broken = {
    size: 0,
    set () { throw new Error('store unavailable') },
    delete () {}
  }
  sessionsRoutes(app, { leaking: broken, bounded: broken })
  const res = await app.inject({ method: 'POST', url: '/sessions', payload: { tenant: 'shop', user: 'ada', plan: 'monthly' } })
  t.equal(res.statusCode, 500)
})

t.test('the diagnostics routes are registered under /_diagnostics and protected', async (t) => {
  const app = await build(t)
  const authorization = `Bearer ${token}`
  const memory = await app.inject({ method: 'GET', url: '/_diagnostics/memory', headers: { authorization } })
  t.equal(memory.statusCode, 200)
  t.type(memory.json().process.heapUsed, 'number')
  const gcStats = await app.inject({ method: 'GET', url: '/_diagnostics/gc-stats', headers: { authorization } })
  t.equal(gcStats.statusCode, 200)

  t.equal((await app.inject({ method: 'GET', url: '/_diagnostics/memory' })).statusCode, 401, 'no token')
  const wrong = await app.inject({ method: 'GET', url: '/_diagnostics/memory', headers: { authorization: `Bearer ${'x'.repeat(32)}` } })
  t.equal(wrong.statusCode, 401, 'wrong token')
  t.equal((await app.inject({ method: 'GET', url: '/_diagnostics/gc-stats' })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/_diagnostics/heap-snapshot' })).statusCode, 401, 'snapshots too')

  // The load driver samples once a second for minutes: more than the plugin's 60 per minute.
  for (let i = 0; i < 70; i++) {
    const res = await app.inject({ method: 'GET', url: '/_diagnostics/memory', headers: { authorization } })
    if (res.statusCode !== 200) t.fail(`sample ${i} answered ${res.statusCode}`)
  }
  t.pass('70 samples within a minute are allowed')
})

t.test('a registration failure closes the database connection it opened', async (t) => {
  const before = mongoose.connections.length
  await t.rejects(buildApp({ mongoUri: database.uri, diagnosticsToken: 'short' }), /at least 16 characters/)
  t.equal(mongoose.connections.length, before)
})

t.test('an unreachable database fails the build', async (t) => {
  const before = mongoose.connections.length
  await t.rejects(buildApp({ mongoUri: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200', diagnosticsToken: token }))
  t.equal(mongoose.connections.length, before, 'the failed connection is not left in mongoose.connections')
})
