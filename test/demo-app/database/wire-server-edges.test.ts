// Less common paths of the wire server: argument validation, cursor expiry, index key paths,
// client resets, internal errors.
import t from 'tap'
import { Long, UUID } from 'mongodb'
import { RawClient, client, opMsg, startServer } from './fixtures/wire.js'

t.test('command arguments are validated like mongod', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('edges')
  await db.collection('c').insertMany([{ a: 1, score: 3 }, { a: 2, score: 1 }])
  await t.rejects(db.command({ find: null }), { code: 14, message: "BSON field 'find' is the wrong type 'null', expected type 'string'" })
  await t.rejects(db.command({ find: ['c'] }), { code: 14, message: /wrong type 'array'/ })
  t.equal((await db.command({ find: 'c', singleBatch: 1 })).cursor.firstBatch.length, 2, 'numbers are booleans')
  const all = await db.command({ find: 'c', batchSize: 0, singleBatch: true })
  t.equal(all.cursor.firstBatch.length, 2, 'singleBatch with batchSize 0: everything')
  const opened = await db.command({ find: 'c', batchSize: 0 })
  t.equal((await db.command({ getMore: opened.cursor.id, collection: 'c', batchSize: 0 })).cursor.nextBatch.length, 2, 'getMore batchSize 0: the rest')
  await t.rejects(db.command({ getMore: Long.fromString('9007199254740993'), collection: 'c' }), { code: 43 }, 'an Int64 beyond 2^53')
  t.same((await db.command({ find: 'c', sort: { score: { $meta: 'textScore' }, a: -1 }, projection: {} })).cursor.firstBatch.map((doc: { a: number }) => doc.a), [2, 1], '$meta sort keys are ignored, an empty projection is none')
  await t.rejects(db.command({ find: 'c', sort: { a: { x: 1 } } }), { code: 2 })
  t.same((await db.command({ listCollections: 1 })).cursor.firstBatch.map((info: { name: string }) => info.name), ['c'], 'no cursor document')
  t.match(await db.command({ delete: 'c', deletes: [{ q: { a: 2 } }] }), { n: 1 }, 'limit defaults to 0 (all)')
  const joined = await db.collection('c').aggregate([{ $lookup: { from: 'nowhere', localField: 'a', foreignField: 'a', as: 'j' } }]).toArray()
  t.same(joined.map(doc => doc.j), [[]], '$lookup on a missing collection')
  await t.rejects(db.command({ distinct: 'c', key: 'a', query: { $expr: { $divide: ['$a', 0] } } }), { code: 2, message: /divide by zero/ })
  t.match(await db.command({ delete: 'c', deletes: [{ q: { $expr: { $divide: ['$a', 0] } }, limit: 0 }] }), { n: 0, writeErrors: [{ index: 0, code: 2 }] }, 'a filter failing on a document')
  await t.rejects(db.collection('c').createIndex({ a: 1 }, { unique: true, partialFilterExpression: { a: { $bogus: 1 } } }), { code: 2 })
  const upsert = await db.collection('c').updateOne({ $or: [{ a: 5 }, { a: 6 }], kind: 'x' }, { $set: { b: 1 } }, { upsert: true })
  t.equal(upsert.upsertedCount, 1)
  t.same(await db.collection('c').findOne({ kind: 'x' }, { projection: { _id: 0 } }), { kind: 'x', b: 1 }, 'only equality fields seed an upsert')
})

t.test('sessions: ending one kills its cursors; odd session ids are ignored', async t => {
  const { port, server } = await startServer(t)
  const raw = await RawClient.connect(t, port)
  await raw.command({ insert: 'c', documents: [{ a: 1 }, { a: 2 }] })
  const lsid = { id: new UUID() }
  const other = { id: new UUID() }
  await raw.command({ find: 'c', batchSize: 1, lsid })
  await raw.command({ find: 'c', batchSize: 1, lsid: other })
  await raw.command({ find: 'c', batchSize: 1, lsid: { id: 5 } })
  t.equal(server.cursors.size, 3)
  t.same(await raw.command({ endSessions: [lsid, { id: 'not a uuid' }, 5], $db: 'admin' }), { ok: 1 })
  t.equal(server.cursors.size, 2, 'only the ended session\'s cursor is gone')
  t.same(await raw.command({ endSessions: 'nope', $db: 'admin' }), { ok: 1 })
  t.equal(server.cursors.size, 2)
})

t.test('unique index keys through arrays and non-documents', async t => {
  const { uri } = await startServer(t)
  const c = (await client(t, uri)).db('paths').collection('c')
  await c.createIndex({ 'a.b': 1 }, { unique: true })
  await c.insertOne({ a: [] })
  await c.insertOne({ a: [] })
  t.pass('an empty array on the way holds no key')
  await c.insertOne({ a: 5 })
  await t.rejects(c.insertOne({ a: 'scalar' }), { code: 11000, keyValue: { 'a.b': null } }, 'a scalar on the way is a missing field')
  await c.insertOne({ a: [{ b: 1 }, { b: 2 }] })
  await t.rejects(c.insertOne({ a: { b: [3, 2] } }), { code: 11000, keyValue: { 'a.b': 2 } })
})

t.test('idle cursors expire (cursorTimeoutMS)', async t => {
  const { uri, server } = await startServer(t, { cursorTimeoutMS: 50 })
  const db = (await client(t, uri)).db('expire')
  await db.collection('c').insertMany([{ a: 1 }, { a: 2 }])
  const opened = await db.command({ find: 'c', batchSize: 1 })
  t.equal(server.cursors.size, 1)
  await new Promise(resolve => setTimeout(resolve, 250))
  t.equal(server.cursors.size, 0, 'reaped')
  await t.rejects(db.command({ getMore: opened.cursor.id, collection: 'c' }), { code: 43 })
})

t.test('a client resetting its connection; a server without a logger', async t => {
  const { port, uri } = await startServer(t, { logger: undefined })
  const raw = await RawClient.connect(t, port)
  raw.send(opMsg({ ping: 1, $db: 'admin' }).subarray(0, 10))
  await new Promise(resolve => setTimeout(resolve, 50))
  raw.socket.resetAndDestroy()
  const garbage = await RawClient.connect(t, port)
  garbage.send(Buffer.from([1, 0, 0, 0]))
  await garbage.closed
  t.same(await (await client(t, uri)).db('admin').command({ ping: 1 }), { ok: 1 }, 'still serving')
})

t.test('a bug in a command answers InternalError (code 1) and is logged', async t => {
  // a handler whose statement throws something that is not a CommandError
  const { runStatements } = await import('../../../demo-app/database/wire-server/commands/common.js')
  const { runCommand } = await t.mockImport<typeof import('../../../demo-app/database/wire-server/commands/index.js')>('../../../demo-app/database/wire-server/commands/index.js', {
    // the module's own file: tsx loads `./delete.js` from delete.ts
    '../../../demo-app/database/wire-server/commands/delete.ts': {
      deleteCommands: { delete: (ctx: Parameters<typeof runStatements>[0]) => runStatements(ctx, [{}], () => { throw new TypeError('boom') }) }
    }
  })
  const { server } = await startServer(t)
  const errors: string[] = []
  const state = Object.assign(Object.create(server) as typeof server, { logger: { info () {}, warn () {}, error: (message: string) => errors.push(message) } })
  t.same(runCommand(state, { id: 1, remote: 'test' }, 'db', { delete: 'c', deletes: [{ q: {} }] }), { ok: 0, errmsg: 'internal error running delete: boom', code: 1, codeName: 'InternalError' })
  t.match(errors, [/^wire-server: command delete failed: TypeError: boom/])
  t.same(runCommand(state, { id: 1, remote: 'test' }, 'db', { ping: 1 }), { ok: 1 })
})
