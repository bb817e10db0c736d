// The wire protocol itself, on raw sockets: framing, OP_MSG sections and flags, OP_QUERY
// handshake, unacknowledged writes, malformed input and a client that does not read.
import t from 'tap'
import { BSON } from 'bson'
import { MongoClient } from 'mongodb'
import { RawClient, client, opMsg, opQuery, rawMessage, startServer } from './fixtures/wire.js'

t.test('OP_MSG: a body, document sequences (kind 1) and a tolerated checksum', async t => {
  const { port } = await startServer(t)
  const raw = await RawClient.connect(t, port)
  const inserted = await raw.command({ insert: 'docs', $db: 'seq' }, {
    sequences: [['documents', [{ _id: 1, a: 1 }, { _id: 2, a: 2 }]]]
  })
  t.same(inserted, { n: 2, ok: 1 })
  const merged = await raw.command({ insert: 'docs', documents: [{ _id: 3 }], $db: 'seq' }, {
    sequences: [['documents', [{ _id: 4 }]]],
    checksum: true
  })
  t.same(merged, { n: 2, ok: 1 }, 'a sequence adds to a field of the same name')
  const updated = await raw.command({ update: 'docs', $db: 'seq' }, {
    sequences: [['updates', [{ q: { _id: 1 }, u: { $set: { b: 1 } } }, { q: { _id: 9 }, u: { $set: { b: 1 } }, upsert: true }]]]
  })
  t.same(updated, { n: 2, nModified: 1, upserted: [{ index: 1, _id: 9 }], ok: 1 })
  const deleted = await raw.command({ delete: 'docs', $db: 'seq' }, { sequences: [['deletes', [{ q: { _id: 9 }, limit: 1 }]]] })
  t.same(deleted, { n: 1, ok: 1 })
  const found = await raw.command({ find: 'docs', filter: {}, $db: 'seq' })
  t.same(found.cursor.firstBatch.map((doc: { _id: number }) => doc._id), [1, 2, 3, 4])
  t.equal(found.cursor.id._bsontype, 'Long', 'cursor ids are BSON Int64')

  raw.send(opMsg({ ping: 1, $db: 'admin' }, { requestId: 4242, flags: 1 << 16 }))
  const reply = await raw.next()
  t.equal(reply.opCode, 2013)
  t.equal(reply.responseTo, 4242, 'responseTo is the request id')
  t.equal(reply.flags, 0, 'exhaustAllowed is ignored: one plain reply')
})

t.test('OP_QUERY handshake on admin.$cmd gets an OP_REPLY; other OP_QUERY commands are refused', async t => {
  const { port } = await startServer(t)
  const raw = await RawClient.connect(t, port)
  raw.send(opQuery('admin.$cmd', { isMaster: 1, helloOk: true, client: { driver: { name: 'legacy' } } }, 77))
  const reply = await raw.next()
  t.equal(reply.opCode, 1, 'OP_REPLY')
  t.equal(reply.responseTo, 77)
  t.match(reply.doc, { ismaster: true, helloOk: true, maxWireVersion: 21, ok: 1 })
  raw.send(opQuery('admin.$cmd', { $query: { hello: 1 }, $readPreference: { mode: 'primary' } }))
  t.match((await raw.next()).doc, { isWritablePrimary: true, ok: 1 }, '$query wrapper')
  raw.send(opQuery('admin.$cmd', { find: 'x' }))
  t.match((await raw.next()).doc, { ok: 0, code: 352 })
  raw.send(opQuery('test.collection', { hello: 1 }))
  t.match((await raw.next()).doc, { ok: 0, code: 352 })
})

t.test('moreToCome: no reply at all, later commands answered in order', async t => {
  const { port } = await startServer(t)
  const raw = await RawClient.connect(t, port)
  raw.send(opMsg({ insert: 'q', documents: [{ a: 1 }], $db: 'm' }, { flags: 2 }))
  raw.send(opMsg({ nope: 1, $db: 'm' }, { flags: 2 }))
  raw.send(opMsg({ count: 'q', $db: 'm' }, { requestId: 9 }))
  const reply = await raw.next()
  t.equal(reply.responseTo, 9, 'the first reply is the count, not the unacknowledged write')
  t.same(reply.doc, { n: 1, ok: 1 })
  await t.rejects(raw.next(200), /no reply/)
})

t.test('framing: messages split at any byte and several in one packet', async t => {
  const { port } = await startServer(t)
  const raw = await RawClient.connect(t, port)
  const messages = Buffer.concat([1, 2, 3].map(i => opMsg({ insert: 'f', documents: [{ i, pad: 'x'.repeat(100) }], $db: 'frame' })))
  for (let i = 0; i < messages.length; i += 7) {
    raw.send(messages.subarray(i, i + 7))
    await new Promise(resolve => setImmediate(resolve))
  }
  for (let i = 0; i < 3; i++) t.same((await raw.next()).doc, { n: 1, ok: 1 })
  raw.send(Buffer.concat([opMsg({ ping: 1, $db: 'admin' }), opMsg({ ping: 1, $db: 'admin' }).subarray(0, 2)]))
  t.same((await raw.next()).doc, { ok: 1 })
  raw.send(opMsg({ ping: 1, $db: 'admin' }).subarray(2))
  t.same((await raw.next()).doc, { ok: 1 }, 'a split inside the length prefix')
})

t.test('malformed messages close that connection only', async t => {
  const { port, uri, warnings } = await startServer(t)
  const healthy = await client(t, uri)
  const body = BSON.serialize({ ping: 1, $db: 'admin' })
  const cases: Array<[string, Buffer]> = [
    ['length below the header size', Buffer.from([4, 0, 0, 0, 0, 0, 0, 0])],
    ['length above maxMessageSizeBytes', rawMessage(2013, Buffer.alloc(8), 64 * 1024 * 1024)],
    ['unknown opCode', rawMessage(9999, Buffer.alloc(8))],
    ['OP_COMPRESSED (never negotiated)', rawMessage(2012, Buffer.alloc(8))],
    ['OP_MSG too short', rawMessage(2013, Buffer.alloc(2))],
    ['unknown required flag bit', rawMessage(2013, Buffer.concat([Buffer.from([4, 0, 0, 0, 0]), body]))],
    ['bad BSON', rawMessage(2013, Buffer.concat([Buffer.alloc(5), Buffer.from([12, 0, 0, 0, 0x7f, 0x61, 0, 0, 0, 0, 0, 0])]))],
    ['BSON size past the end', rawMessage(2013, Buffer.concat([Buffer.alloc(5), Buffer.from([200, 0, 0, 0, 0])]))],
    ['truncated BSON', rawMessage(2013, Buffer.concat([Buffer.alloc(5), Buffer.from([5, 0])]))],
    ['unknown section kind', rawMessage(2013, Buffer.concat([Buffer.alloc(4), Buffer.from([7]), body]))],
    ['two bodies', rawMessage(2013, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body, Buffer.from([0]), body]))],
    ['no body', rawMessage(2013, Buffer.concat([Buffer.alloc(4), Buffer.from([1, 11, 0, 0, 0, 0x64, 0, 5, 0, 0, 0, 0])]))],
    ['truncated sequence', rawMessage(2013, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body, Buffer.from([1, 9])]))],
    ['sequence size past the end', rawMessage(2013, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body, Buffer.from([1, 200, 0, 0, 0])]))],
    ['unterminated sequence name', rawMessage(2013, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body, Buffer.from([1, 7, 0, 0, 0, 0x64, 0x64, 0x64])]))],
    ['OP_QUERY without a document', rawMessage(2004, Buffer.concat([Buffer.alloc(4), Buffer.from('admin.$cmd\0'), Buffer.alloc(8)]))]
  ]
  for (const [name, message] of cases) {
    const raw = await RawClient.connect(t, port)
    raw.send(message)
    await raw.closed
    t.pass(`${name}: connection closed`)
  }
  t.equal(warnings.length, cases.length, 'each one logged')
  t.match(warnings[0], /closing connection \d+ from 127\.0\.0\.1:\d+: invalid message length 4/)
  t.same(await healthy.db('admin').admin().ping(), { ok: 1 }, 'the other clients are still served')

  const raw = await RawClient.connect(t, port)
  t.match(await raw.command({ ping: 1, $db: 'bad.name' }), { ok: 0, code: 73 }, 'a bad $db is a command error, not a protocol one')
  raw.send(opMsg({ ping: 1 }))
  t.match((await raw.next()).doc, { ok: 0, code: 73 }, 'no $db')
  raw.send(opMsg({}))
  t.match((await raw.next()).doc, { ok: 0, code: 59, errmsg: "no such command: ''" })
})

t.test('a client that stops reading is paused, then served when it reads again', async t => {
  const { port, server } = await startServer(t)
  const mongo = new MongoClient(`mongodb://127.0.0.1:${port}`)
  t.teardown(async () => await mongo.close())
  await mongo.db('big').collection('docs').insertMany(Array.from({ length: 8 }, (_, i) => ({ i, blob: 'x'.repeat(512 * 1024) })))
  const raw = await RawClient.connect(t, port)
  raw.socket.pause()
  const requests = 60
  for (let i = 0; i < requests; i++) raw.send(opMsg({ find: 'docs', filter: {}, $db: 'big' }))
  await new Promise(resolve => setTimeout(resolve, 300))
  raw.socket.resume()
  for (let i = 0; i < requests; i++) t.equal((await raw.next(10_000)).doc.cursor.firstBatch.length, 8)
  t.equal(raw.pendingReplies, 0)
  t.same(await mongo.db('admin').admin().ping(), { ok: 1 })
  t.equal(server.connections.current, 3, 'monitor + pool socket + the raw client')
})

t.test('a reply too big for BSON answers an error instead of crashing', async t => {
  const { uri } = await startServer(t)
  const mongo = await client(t, uri)
  const big = mongo.db('big').collection('docs')
  for (let i = 0; i < 18; i++) await big.insertOne({ i, blob: 'x'.repeat(1024 * 1024) })
  await t.rejects(big.aggregate([{ $group: { _id: null, all: { $push: '$$ROOT' } } }]).toArray(), { code: 10334 })
  t.equal(await big.countDocuments(), 18)
  const first = await mongo.db('big').command({ find: 'docs', batchSize: 100 })
  t.ok(first.cursor.firstBatch.length < 16, `a batch stays under 16 MiB whatever batchSize says (${first.cursor.firstBatch.length} docs)`)
  const next = await mongo.db('big').command({ getMore: first.cursor.id, collection: 'docs', batchSize: 100 })
  t.equal(first.cursor.firstBatch.length + next.cursor.nextBatch.length, 18, 'the rest in the next batch')
})
