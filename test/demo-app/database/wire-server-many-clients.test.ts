// The leaking endpoint opens a MongoClient per request: the server (its own process, as the demo
// runs it) must take ~1,000 of them at once, each with a monitor socket and a pool socket.
import t from 'tap'
import { MongoClient } from 'mongodb'
import { startDatabase } from '../../../demo-app/database/launcher.js'

const CLIENTS = 1000

// ~15 s alone, mostly the driver's own per-client work; leave room for a parallel `npm test`
t.setTimeout(300_000)

t.test(`${CLIENTS} concurrent MongoClients connect, ping, close; the server stays up`, async t => {
  const database = await startDatabase({ logger: { info () {}, warn () {} } })
  t.teardown(async () => await database.stop())
  t.equal(database.kind, 'wire-compatible')

  const started = Date.now()
  const clients = Array.from({ length: CLIENTS }, (_, i) => new MongoClient(`${database.uri}/tenant${i % 50}`, {
    serverSelectionTimeoutMS: 60_000,
    connectTimeoutMS: 60_000,
    maxPoolSize: 2
  }))
  const pings = await Promise.all(clients.map(async mongo => {
    await mongo.connect()
    return await mongo.db().command({ ping: 1 })
  }))
  t.equal(pings.filter(reply => reply.ok === 1).length, CLIENTS, `all pinged in ${Date.now() - started} ms`)

  const observer = new MongoClient(database.uri)
  t.teardown(async () => await observer.close())
  const during = await observer.db('admin').command({ serverStatus: 1 })
  t.ok(during.connections.current >= CLIENTS * 2, `${during.connections.current} connections open at once`)

  await Promise.all(clients.map(async mongo => await mongo.close()))
  // the server sees the sockets close shortly after
  let after = during
  for (let i = 0; i < 100 && after.connections.current > 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
    after = await observer.db('admin').command({ serverStatus: 1 })
  }
  t.ok(after.connections.current <= 5, `${after.connections.current} connections left after closing`)
  t.ok(after.connections.totalCreated >= CLIENTS * 2)
  t.same(await observer.db('admin').command({ ping: 1 }), { ok: 1 }, 'still answering')
  await observer.db('after').collection('c').insertOne({ ok: true })
  t.equal(await observer.db('after').collection('c').countDocuments(), 1)
})
