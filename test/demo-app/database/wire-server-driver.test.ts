// Conformance of the wire-compatible server, through the official mongodb driver's public API.
import t from 'tap'
import { Long, MongoBulkWriteError, MongoServerError, ObjectId, type CommandStartedEvent } from 'mongodb'
import { client, startServer } from './fixtures/wire.js'

t.test('handshake: the driver connects, pings and reads server info', async t => {
  const { uri } = await startServer(t)
  const mongo = await client(t, uri)
  const admin = mongo.db('admin').admin()
  t.same(await admin.ping(), { ok: 1 })
  const info = await admin.buildInfo()
  t.equal(info.version, '7.0.0')
  const hello = await mongo.db('admin').command({ hello: 1 })
  t.equal(hello.isWritablePrimary, true)
  t.equal(hello.setName, undefined, 'standalone: no replica set')
  t.ok(hello.maxWireVersion >= 9 && hello.maxWireVersion <= 29)
  t.type(hello.connectionId, 'number')
  const legacy = await mongo.db('admin').command({ isMaster: 1, helloOk: true })
  t.equal(legacy.ismaster, true)
  t.equal(legacy.helloOk, true)
  t.same(await mongo.db('admin').command({ getParameter: 1, featureCompatibilityVersion: 1 }), { featureCompatibilityVersion: { version: '7.0' }, ok: 1 })
  t.ok((await mongo.db('admin').command({ getParameter: '*' })).cursorTimeoutMillis)
  const status = await mongo.db('admin').command({ serverStatus: 1 })
  t.ok(status.connections.current >= 1)
  t.ok(status.uptimeMillis >= 0)
  t.match((await mongo.db('admin').command({ whatsmyuri: 1 })).you, /^127\.0\.0\.1:\d+$/)
  t.same((await mongo.db('admin').command({ connectionStatus: 1 })).authInfo.authenticatedUsers, [])
})

t.test('insertOne / insertMany / find with filter, sort, skip, limit, projection', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('blog')
  const posts = db.collection('posts')
  const one = await posts.insertOne({ title: 'first', n: 1 })
  t.ok(one.insertedId instanceof ObjectId, '_id generated as an ObjectId')
  const many = await posts.insertMany([{ title: 'b', n: 2, tags: ['x', 'y'] }, { title: 'c', n: 3, tags: ['y'] }, { _id: 'custom' as unknown as ObjectId, title: 'd', n: 4 }])
  t.equal(many.insertedCount, 3)
  t.equal(many.insertedIds[2], 'custom')

  const found = await posts.find({ n: { $gte: 2 } }).sort({ n: -1 }).skip(1).limit(2).project({ title: 1, _id: 0 }).toArray()
  t.same(found, [{ title: 'c' }, { title: 'b' }])
  const stored = await posts.findOne({ _id: 'custom' as unknown as ObjectId })
  t.same(Object.keys(stored ?? {}), ['_id', 'title', 'n'], '_id first, field order kept')
  t.same(await posts.find({ tags: 'y' }, { projection: { n: 1 } }).sort({ n: 1 }).toArray().then(docs => docs.map(doc => doc.n)), [2, 3])
  t.equal((await posts.find({ title: /^F/i }).toArray()).length, 1, 'regular expressions')
  t.same(await posts.find().sort({ $natural: -1 }).limit(1).toArray().then(docs => docs[0]?.title), 'd', '$natural: -1 reverses insertion order')
  t.same(await posts.find({}, { projection: { n: 1, title: 1 } }).limit(1).toArray().then(docs => Object.keys(docs[0] ?? {})), ['_id', 'title', 'n'], 'projection keeps the document order')
  t.equal(await posts.findOne({ nope: true }), null)
  t.same(await db.collection('missing').find().toArray(), [], 'a missing collection is empty')
})

t.test('cursors: several batches through getMore, early close through killCursors', async t => {
  const { uri, server } = await startServer(t)
  const mongo = await client(t, uri, 'test', { monitorCommands: true })
  const commands: CommandStartedEvent[] = []
  mongo.on('commandStarted', event => commands.push(event))
  const items = mongo.db('cursors').collection('items')
  await items.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })))

  const all = await items.find().sort({ i: 1 }).batchSize(40).toArray()
  t.equal(all.length, 250)
  t.same(all.slice(0, 3).map(doc => doc.i), [0, 1, 2])
  const getMores = commands.filter(event => event.commandName === 'getMore')
  t.equal(getMores.length, 6, '40 + 6 × 40 (the last one 10)')
  t.ok(getMores[0]?.command.getMore instanceof Long, 'the driver got an Int64 cursor id back')
  t.equal(server.cursors.size, 0, 'an exhausted cursor is gone')

  const cursor = items.find().batchSize(10)
  t.equal((await cursor.next())?.i, 0)
  t.equal(server.cursors.size, 1)
  await cursor.close()
  t.ok(commands.some(event => event.commandName === 'killCursors'), 'close sends killCursors')
  t.equal(server.cursors.size, 0)

  // default first batch is 101, like mongod
  const events: number[] = []
  mongo.on('commandSucceeded', event => {
    if (event.commandName === 'find') events.push((event.reply as { cursor: { firstBatch: unknown[] } }).cursor.firstBatch.length)
  })
  await items.find().toArray()
  t.same(events, [101])

  const single = await mongo.db('cursors').command({ find: 'items', batchSize: 5, singleBatch: true })
  t.equal(single.cursor.firstBatch.length, 5)
  t.equal(single.cursor.id.toString(), '0', 'singleBatch: no cursor kept')
  const negative = await mongo.db('cursors').command({ find: 'items', limit: -3 })
  t.equal(negative.cursor.firstBatch.length, 3)
  t.equal(negative.cursor.id.toString(), '0')
  const empty = await mongo.db('cursors').command({ find: 'items', batchSize: 0 })
  t.equal(empty.cursor.firstBatch.length, 0, 'batchSize 0 opens a cursor with an empty first batch')
  const rest = await mongo.db('cursors').command({ getMore: empty.cursor.id, collection: 'items' })
  t.equal(rest.cursor.nextBatch.length, 250, 'getMore without batchSize returns the rest')
  t.equal(rest.cursor.id.toString(), '0')

  const killed = await mongo.db('cursors').command({ find: 'items', batchSize: 1 })
  const reply = await mongo.db('cursors').command({ killCursors: 'items', cursors: [killed.cursor.id, Long.fromNumber(12345)] })
  t.same(reply.cursorsKilled.map(String), [killed.cursor.id.toString()])
  t.same(reply.cursorsNotFound.map(String), ['12345'])
  await t.rejects(mongo.db('cursors').command({ getMore: killed.cursor.id, collection: 'items' }), { code: 43, codeName: 'CursorNotFound' })
})

t.test('updates: operators, upsert, multi, replaceOne, arrayFilters, positional', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('updates')
  const c = db.collection('c')
  await c.insertMany([{ k: 1, n: 1, arr: [1, 5, 9] }, { k: 2, n: 1, arr: [2] }, { k: 3, n: 1, items: [{ id: 'a', q: 1 }, { id: 'b', q: 1 }] }])

  const one = await c.updateOne({ k: 1 }, { $inc: { n: 5 }, $set: { tag: 'x' }, $push: { arr: 10 } } as never)
  t.match(one, { matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null })
  t.same(await c.findOne({ k: 1 }, { projection: { _id: 0 } }), { k: 1, n: 6, arr: [1, 5, 9, 10], tag: 'x' })

  const noop = await c.updateOne({ k: 1 }, { $set: { tag: 'x' } })
  t.match(noop, { matchedCount: 1, modifiedCount: 0 }, 'nModified counts real changes only')

  const many = await c.updateMany({ n: 1 }, { $set: { seen: true }, $unset: { nothing: '' } })
  t.match(many, { matchedCount: 2, modifiedCount: 2 })

  const upsert = await c.updateOne({ k: 9, 'meta.source': 'x', $and: [{ level: { $eq: 2 } }], n: { $gt: 0 } }, { $set: { created: true }, $setOnInsert: { fresh: true } }, { upsert: true })
  t.equal(upsert.upsertedCount, 1)
  t.ok(upsert.upsertedId instanceof ObjectId)
  t.same(await c.findOne({ k: 9 }, { projection: { _id: 0 } }), { k: 9, meta: { source: 'x' }, level: 2, created: true, fresh: true }, 'upsert seeds equality fields')
  await c.updateOne({ k: 9 }, { $set: { again: true }, $setOnInsert: { fresh: false } }, { upsert: true })
  t.equal((await c.findOne({ k: 9 }))?.fresh, true, '$setOnInsert only applies on insert')
  t.match(await c.updateOne({ k: 9 }, { $setOnInsert: { x: 1 } }, { upsert: true }), { matchedCount: 1, modifiedCount: 0 })
  const upsertId = await c.updateOne({ _id: 'given' as unknown as ObjectId }, { $set: { v: 1 } }, { upsert: true })
  t.equal(upsertId.upsertedId, 'given')

  const replaced = await c.replaceOne({ k: 2 }, { k: 2, replaced: true })
  t.match(replaced, { matchedCount: 1, modifiedCount: 1 })
  t.same(await c.findOne({ k: 2 }, { projection: { _id: 0 } }), { k: 2, replaced: true })
  const replaceUpsert = await c.replaceOne({ k: 20 }, { k: 20, fromReplace: true }, { upsert: true })
  t.equal(replaceUpsert.upsertedCount, 1)
  const sameReplace = await c.replaceOne({ k: 2 }, { k: 2, replaced: true })
  t.match(sameReplace, { matchedCount: 1, modifiedCount: 0 })

  await c.updateOne({ k: 1 }, { $set: { 'arr.$[big]': 0 } }, { arrayFilters: [{ big: { $gte: 9 } }] })
  t.same((await c.findOne({ k: 1 }))?.arr, [1, 5, 0, 0], 'arrayFilters')
  await c.updateOne({ k: 3, 'items.id': 'b' }, { $inc: { 'items.$.q': 10 } })
  t.same((await c.findOne({ k: 3 }))?.items, [{ id: 'a', q: 1 }, { id: 'b', q: 11 }], 'positional $')
  await c.updateOne({ k: 3 }, [{ $set: { total: { $sum: '$items.q' } } }])
  t.equal((await c.findOne({ k: 3 }))?.total, 12, 'pipeline update')

  t.match(await c.updateOne({ k: 404 }, { $set: { x: 1 } }), { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 })
  t.match(await db.collection('never').updateOne({ a: 1 }, { $set: { b: 1 } }), { matchedCount: 0 })
  t.notOk((await db.listCollections({ name: 'never' }).toArray()).length, 'an update that matches nothing creates no collection')

  await t.rejects(c.updateOne({ k: 1 }, { $set: { _id: 'other' } }), { code: 66 })
  await t.rejects(c.replaceOne({ k: 1 }, { _id: 'other' as unknown as ObjectId, k: 1 }), { code: 66 })
  await t.rejects(c.updateOne({ k: 1 }, [{ $set: { _id: 'other' } }]), { code: 66 })
  await t.rejects(c.updateOne({ k: 1 }, { $bogus: { a: 1 } } as never), MongoServerError)
  await t.rejects(c.updateOne({ k: 1 }, { $set: { 'arr.$[x]': 1 } }, { arrayFilters: 'nope' as never }), { code: 9 })
  await t.rejects(db.command({ update: 'c', updates: [{ q: {}, u: { a: 1 }, multi: true }] }).then(reply => { throw new MongoServerError(reply.writeErrors[0]) }), { code: 9 })
})

t.test('deletes and findOneAndUpdate / findOneAndDelete / findOneAndReplace', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('fam')
  const c = db.collection('c')
  await c.insertMany([{ k: 1, v: 'a' }, { k: 2, v: 'b' }, { k: 3, v: 'b' }, { k: 4, v: 'c' }])

  t.equal((await c.deleteOne({ v: 'b' })).deletedCount, 1)
  t.equal((await c.deleteMany({ v: { $in: ['a', 'b'] } })).deletedCount, 2)
  t.equal((await c.deleteMany({ v: 'zzz' })).deletedCount, 0)
  t.equal((await db.collection('missing').deleteMany({})).deletedCount, 0)
  t.equal(await c.countDocuments(), 1)

  await c.insertMany([{ k: 5, v: 'x', n: 1 }, { k: 6, v: 'x', n: 2 }])
  const before = await c.findOneAndUpdate({ v: 'x' }, { $inc: { n: 10 } }, { sort: { k: -1 } })
  t.equal(before?.n, 2, 'returns the document before, sorted')
  const after = await c.findOneAndUpdate({ v: 'x' }, { $inc: { n: 10 } }, { sort: { k: 1 }, returnDocument: 'after', projection: { n: 1, _id: 0 } })
  t.same(after, { n: 11 }, 'returnDocument after, with projection')
  const meta = await c.findOneAndUpdate({ k: 99 }, { $set: { made: true } }, { upsert: true, returnDocument: 'after', includeResultMetadata: true })
  t.equal(meta.value?.k, 99)
  t.equal(meta.lastErrorObject?.updatedExisting, false)
  t.ok(meta.lastErrorObject?.upserted)
  const metaBefore = await c.findOneAndUpdate({ k: 98 }, { $set: { made: true } }, { upsert: true, includeResultMetadata: true })
  t.equal(metaBefore.value, null, 'upsert without returnDocument after returns null')
  t.equal(await c.findOneAndUpdate({ k: 1000 }, { $set: { a: 1 } }), null)
  const replaced = await c.findOneAndReplace({ k: 5 }, { k: 5, whole: true }, { returnDocument: 'after' })
  t.same(replaced && { k: replaced.k, whole: replaced.whole }, { k: 5, whole: true })
  const unchanged = await c.findOneAndUpdate({ k: 5 }, { $set: { whole: true } }, { returnDocument: 'after' })
  t.equal(unchanged?.whole, true)

  const removed = await c.findOneAndDelete({ v: 'x' })
  t.equal(removed?.k, 6)
  t.equal(await c.findOneAndDelete({ v: 'nothing' }), null)
  t.equal(await db.collection('missing').findOneAndDelete({}), null)
  t.same(await c.findOneAndDelete({ k: 4 }, { projection: { v: 1, _id: 0 } }), { v: 'c' })

  await t.rejects(db.command({ delete: 'c', deletes: [{ q: {}, limit: 5 }] }).then(reply => { throw new MongoServerError(reply.writeErrors[0]) }), { code: 9 })
  await t.rejects(db.command({ findAndModify: 'c', query: {}, remove: true, update: { $set: { a: 1 } } }), { code: 9 })
  await t.rejects(db.command({ findAndModify: 'c', query: {} }), { code: 9 })
  await t.rejects(db.command({ findAndModify: 'c', query: {}, remove: true, new: true }), { code: 9 })
})

t.test('countDocuments, estimatedDocumentCount, distinct, aggregate', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('agg')
  const sales = db.collection('sales')
  await sales.insertMany([
    { item: 'a', qty: 2, tags: ['x', 'y'], meta: { color: 'red' } },
    { item: 'b', qty: 5, tags: ['y'], meta: { color: 'blue' } },
    { item: 'a', qty: 1, tags: [], meta: { color: 'red' } },
    { item: 'c', qty: 7, meta: {} }
  ])
  t.equal(await sales.countDocuments(), 4)
  t.equal(await sales.countDocuments({ item: 'a' }), 2)
  t.equal(await sales.countDocuments({}, { skip: 1, limit: 2 }), 2)
  t.equal(await sales.estimatedDocumentCount(), 4)
  t.equal(await db.collection('missing').estimatedDocumentCount(), 0)
  t.equal((await db.command({ count: 'sales', query: { qty: { $gt: 1 } }, skip: 1 })).n, 2)

  t.same((await sales.distinct('item')).sort(), ['a', 'b', 'c'])
  t.same((await sales.distinct('tags')).sort(), ['x', 'y'], 'array elements count one by one')
  t.same(await sales.distinct('meta.color', { qty: { $lt: 5 } }), ['red'])
  t.same(await db.collection('missing').distinct('x'), [])

  const grouped = await sales.aggregate([
    { $match: { qty: { $gte: 1 } } },
    { $group: { _id: '$item', total: { $sum: '$qty' }, count: { $sum: 1 } } },
    { $sort: { total: -1 } }
  ]).toArray()
  t.same(grouped, [{ _id: 'c', total: 7, count: 1 }, { _id: 'b', total: 5, count: 1 }, { _id: 'a', total: 3, count: 2 }])

  const many = await sales.aggregate([{ $unwind: '$tags' }], { batchSize: 1 }).toArray()
  t.equal(many.length, 3, 'aggregate cursors page through getMore')

  await db.collection('colors').insertMany([{ name: 'red', hex: '#f00' }, { name: 'blue', hex: '#00f' }])
  const joined = await sales.aggregate([
    { $match: { item: 'b' } },
    { $lookup: { from: 'colors', localField: 'meta.color', foreignField: 'name', as: 'color' } },
    { $project: { _id: 0, hex: { $first: '$color.hex' } } }
  ]).toArray()
  t.same(joined, [{ hex: '#00f' }], '$lookup reads the same database')
  t.same(await db.collection('missing').aggregate([{ $match: {} }]).toArray(), [])
  const stored = await sales.find({ item: 'b' }).toArray()
  await sales.aggregate([{ $set: { qty: 0 } }]).toArray()
  t.same(await sales.find({ item: 'b' }).toArray(), stored, 'a pipeline never changes stored documents')

  await t.rejects(sales.aggregate([{ $bogus: {} }]).toArray(), { code: 40324 })
  await t.rejects(sales.aggregate([{ $out: 'elsewhere' }]).toArray(), { code: 40324 })
  await t.rejects(sales.aggregate([{ $group: { _id: 1, x: { $nope: 1 } } }]).toArray(), { code: 2 })
  await t.rejects(db.command({ aggregate: 'sales', pipeline: [] }), { code: 9 })
  await t.rejects(db.command({ aggregate: 'sales', pipeline: [], explain: true }), { code: 2 })
  await t.rejects(db.command({ aggregate: 1, pipeline: [{ $currentOp: {} }], cursor: {} }), { code: 73 })
  await t.rejects(db.command({ distinct: 'sales', key: 1 }), { code: 14 })
})

t.test('unique indexes: E11000 on insert, update, upsert and index build', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('uniq')
  const users = db.collection('users')
  t.equal(await users.createIndex({ email: 1 }, { unique: true }), 'email_1')
  await users.insertOne({ email: 'a@x', name: 'A' })
  const dup = await users.insertOne({ email: 'a@x' }).catch((error: unknown) => error)
  t.ok(dup instanceof MongoServerError, 'a MongoServerError')
  t.match(dup, {
    code: 11000,
    message: 'E11000 duplicate key error collection: uniq.users index: email_1 dup key: { email: "a@x" }',
    keyPattern: { email: 1 },
    keyValue: { email: 'a@x' }
  })

  const bulk = await users.insertMany([{ email: 'b@x' }, { email: 'a@x' }, { email: 'c@x' }]).catch((error: unknown) => error)
  t.ok(bulk instanceof MongoBulkWriteError)
  t.equal((bulk as MongoBulkWriteError).insertedCount, 1, 'ordered: stops at the first error')
  t.equal([(bulk as MongoBulkWriteError).writeErrors].flat().length, 1)
  const unordered = await users.insertMany([{ email: 'd@x' }, { email: 'a@x' }, { email: 'e@x' }], { ordered: false }).catch((error: unknown) => error)
  t.equal((unordered as MongoBulkWriteError).insertedCount, 2, 'unordered: goes on after an error')

  await t.rejects(users.updateOne({ email: 'b@x' }, { $set: { email: 'a@x' } }), { code: 11000 })
  t.equal(await users.countDocuments({ email: 'b@x' }), 1, 'a rejected update leaves the document as it was')
  await t.rejects(users.updateOne({ email: 'new@x', x: 1 }, { $set: { email: 'a@x' } }, { upsert: true }), { code: 11000 })
  await t.rejects(users.findOneAndUpdate({ email: 'b@x' }, { $set: { email: 'd@x' } }), { code: 11000, keyValue: { email: 'd@x' } })
  t.match(await users.updateOne({ email: 'b@x' }, { $set: { email: 'b@x', more: 1 } }), { modifiedCount: 1 }, 'keeping its own key is fine')

  const id = new ObjectId()
  await users.insertOne({ _id: id, email: 'id@x' })
  await t.rejects(users.insertOne({ _id: id, email: 'other@x' }), { code: 11000, message: new RegExp(`index: _id_ dup key: \\{ _id: ObjectId\\('${id.toHexString()}'\\) \\}`) })

  // missing fields index as null, unless sparse
  const tokens = db.collection('tokens')
  await tokens.createIndex({ token: 1 }, { unique: true })
  await tokens.insertOne({ a: 1 })
  await t.rejects(tokens.insertOne({ a: 2 }), { code: 11000, keyValue: { token: null } })
  const sparse = db.collection('sparse')
  await sparse.createIndex({ token: 1 }, { unique: true, sparse: true })
  await sparse.insertMany([{ a: 1 }, { a: 2 }, { token: 't' }])
  await t.rejects(sparse.insertOne({ token: 't' }), { code: 11000 })
  const partial = db.collection('partial')
  await partial.createIndex({ slug: 1 }, { unique: true, partialFilterExpression: { published: true } })
  await partial.insertMany([{ slug: 's', published: false }, { slug: 's', published: true }])
  await t.rejects(partial.insertOne({ slug: 's', published: true }), { code: 11000 })
  const compound = db.collection('compound')
  await compound.createIndex({ tenant: 1, 'user.name': 1 }, { unique: true })
  await compound.insertMany([{ tenant: 1, user: { name: 'x' } }, { tenant: 2, user: { name: 'x' } }])
  await t.rejects(compound.insertOne({ tenant: 1, user: { name: 'x' } }), { code: 11000, keyValue: { tenant: 1, 'user.name': 'x' } })
  const multikey = db.collection('multikey')
  await multikey.createIndex({ tags: 1 }, { unique: true })
  await multikey.insertOne({ tags: ['a', 'b', 'a'] })
  await t.rejects(multikey.insertOne({ tags: ['c', 'b'] }), { code: 11000, keyValue: { tags: 'b' } })

  // building a unique index over duplicates fails, and numbers of any width are equal keys
  const nums = db.collection('nums')
  await nums.insertMany([{ n: 1 }, { n: Long.fromNumber(1) }])
  await t.rejects(nums.createIndex({ n: 1 }, { unique: true }), { code: 11000 })
  t.same((await nums.listIndexes().toArray()).map(index => index.name), ['_id_'])

  // deleting frees the key
  await users.deleteOne({ email: 'a@x' })
  await users.insertOne({ email: 'a@x' })
  t.pass('the key is free again after a delete')
})

t.test('indexes: listIndexes, dropIndex, conflicts', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('idx')
  const c = db.collection('c')
  await t.rejects(c.listIndexes().toArray(), { code: 26, codeName: 'NamespaceNotFound' })
  await c.createIndex({ a: 1 })
  await c.createIndex({ b: -1, c: 1 }, { name: 'bc', sparse: true })
  const specs = await c.listIndexes().toArray()
  t.same(specs, [
    { v: 2, key: { _id: 1 }, name: '_id_' },
    { v: 2, key: { a: 1 }, name: 'a_1' },
    { v: 2, key: { b: -1, c: 1 }, name: 'bc', sparse: true }
  ])
  const again = await db.command({ createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }] })
  t.equal(again.note, 'all indexes already exist')
  t.equal(again.numIndexesAfter, 3)
  const generated = await db.command({ createIndexes: 'c', indexes: [{ key: { d: 1, e: -1 } }] })
  t.equal(generated.createdCollectionAutomatically, false)
  t.ok((await c.indexExists('d_1_e_-1')), 'a default name when none is given')
  await t.rejects(c.createIndex({ a: 1 }, { name: 'other' }), { code: 85 })
  await t.rejects(c.createIndex({ a: 1 }, { name: 'a_1', unique: true }), { code: 85 })
  await t.rejects(c.createIndex({ z: 1 }, { name: 'a_1' }), { code: 86 })
  await t.rejects(db.command({ createIndexes: 'c', indexes: [] }), { code: 2 })
  await t.rejects(db.command({ createIndexes: 'c', indexes: [{ key: {} }] }), { code: 9 })
  await t.rejects(db.command({ createIndexes: 'c', indexes: [{ key: { q: 1 }, name: '' }] }), { code: 9 })

  t.same(await c.dropIndex('bc'), { nIndexesWas: 4, ok: 1 })
  await db.command({ dropIndexes: 'c', index: { d: 1, e: -1 } })
  t.same((await c.listIndexes().toArray()).map(index => index.name), ['_id_', 'a_1'])
  await t.rejects(c.dropIndex('nope'), { code: 27, codeName: 'IndexNotFound' })
  await t.rejects(db.command({ dropIndexes: 'c', index: { nope: 1 } }), { code: 27 })
  await t.rejects(c.dropIndex('_id_'), { code: 72 })
  await t.rejects(db.command({ dropIndexes: 'c', index: 5 }), { code: 14 })
  await c.createIndex({ x: 1 })
  await db.command({ dropIndexes: 'c', index: ['x_1'] })
  await c.createIndex({ y: 1 })
  t.match(await db.command({ dropIndexes: 'c', index: '*' }), { nIndexesWas: 3, ok: 1 })
  t.same((await c.listIndexes().toArray()).map(index => index.name), ['_id_'])
  await t.rejects(db.collection('missing').dropIndex('x'), { code: 26 })

  const created = await db.command({ createIndexes: 'fresh', indexes: [{ key: { k: 1 }, name: 'k_1', background: true }] })
  t.equal(created.createdCollectionAutomatically, true)
  t.equal((await db.command({ createIndexes: 'fresh', indexes: [{ key: { k: 1 }, name: 'k_1' }] })).note, 'all indexes already exist', 'background is not an option that matters')
  const listed = await db.command({ listIndexes: 'fresh', cursor: { batchSize: 1 } })
  t.equal(listed.cursor.firstBatch.length, 1)
})

t.test('collections and databases: create, listCollections, drop, dropDatabase, listDatabases', async t => {
  const { uri } = await startServer(t)
  const mongo = await client(t, uri)
  const db = mongo.db('catalog')
  await db.createCollection('a')
  await db.createCollection('b', { capped: true, size: 4096, comment: 'not an option' })
  await t.rejects(db.createCollection('a'), { code: 48, codeName: 'NamespaceExists' })
  await db.collection('c').insertOne({ x: 1 })
  const all = await db.listCollections().toArray()
  t.same(all.map(info => info.name), ['a', 'b', 'c'])
  t.match(all[1], { options: { capped: true, size: 4096 } })
  t.notMatch(all[1], { options: { comment: String } }, 'generic command fields are not options')
  t.equal(all[0]?.type, 'collection')
  t.match(all[0], { info: { readOnly: false, uuid: Object } })
  t.same(await db.listCollections({}, { nameOnly: true }).toArray(), [{ name: 'a', type: 'collection' }, { name: 'b', type: 'collection' }, { name: 'c', type: 'collection' }])
  t.same((await db.listCollections({ name: 'b' }).toArray()).map(info => info.name), ['b'])
  t.same((await db.listCollections({ name: { $in: ['a', 'c'] } }, { nameOnly: true, batchSize: 1 }).toArray()).map(info => info.name), ['a', 'c'])
  t.same(await mongo.db('nothing-here').listCollections().toArray(), [])

  t.equal(await db.collection('a').drop(), true)
  t.equal(await db.collection('a').drop(), true, 'MongoDB 7.0: dropping a missing collection succeeds')
  t.equal(await db.dropCollection('b'), true)
  t.same((await db.collections()).map(c => c.collectionName), ['c'])

  await mongo.db('other').collection('x').insertOne({ y: 1 })
  const listed = await mongo.db('admin').admin().listDatabases()
  t.same(listed.databases.map(d => d.name).sort(), ['catalog', 'other'])
  t.ok((listed.databases[0]?.sizeOnDisk ?? 0) > 0)
  t.ok((listed.totalSize ?? 0) > 0)
  const names = await mongo.db('admin').admin().listDatabases({ nameOnly: true })
  t.same(names.databases.map(d => d.name).sort(), ['catalog', 'other'])
  const filtered = await mongo.db('admin').command({ listDatabases: 1, filter: { name: 'other' } })
  t.same(filtered.databases.map((d: { name: string }) => d.name), ['other'])
  await t.rejects(db.command({ listDatabases: 1 }), { code: 13 })

  const cursor = mongo.db('other').collection('x').find().batchSize(1)
  await mongo.db('other').collection('x').insertOne({ y: 2 })
  await cursor.next()
  t.equal(await mongo.db('other').dropDatabase(), true)
  t.same((await mongo.db('admin').admin().listDatabases()).databases.map(d => d.name), ['catalog'])
  await t.rejects(cursor.next(), { code: 43 }, 'dropping a database kills its cursors')
  await db.collection('c').drop()
  t.same((await mongo.db('admin').admin().listDatabases()).databases, [], 'a database without collections is gone')
})

t.test('tenant isolation: each database is its own namespace', async t => {
  const { uri } = await startServer(t)
  const acme = await client(t, uri, 'acme')
  const globex = await client(t, uri, 'globex')
  await acme.db().collection('posts').insertMany([{ title: 'acme 1' }, { title: 'acme 2' }])
  await globex.db().collection('posts').insertOne({ title: 'globex 1' })
  await acme.db().collection('posts').createIndex({ title: 1 }, { unique: true })
  await globex.db().collection('posts').insertOne({ title: 'acme 1' })
  t.same((await acme.db().collection('posts').find().toArray()).map(p => p.title), ['acme 1', 'acme 2'])
  t.same((await globex.db().collection('posts').find().toArray()).map(p => p.title), ['globex 1', 'acme 1'], 'same unique key in another tenant is fine')
  t.same((await globex.db().collection('posts').listIndexes().toArray()).map(index => index.name), ['_id_'])
  await acme.db().dropDatabase()
  t.equal(await globex.db().collection('posts').countDocuments(), 2, 'dropping one tenant leaves the others')
})

t.test('w: 0 writes get no reply (moreToCome) and the server carries on', async t => {
  const { uri, server } = await startServer(t)
  const mongo = await client(t, uri)
  const c = mongo.db('fire').collection('and-forget')
  const result = await c.insertOne({ a: 1 }, { writeConcern: { w: 0 } })
  t.equal(result.acknowledged, false)
  await c.insertMany([{ a: 2 }, { a: 3 }], { writeConcern: { w: 0 } })
  await c.updateOne({ a: 1 }, { $set: { b: 1 } }, { writeConcern: { w: 0 } })
  await c.deleteOne({ a: 3 }, { writeConcern: { w: 0 } })
  // the next acknowledged command on the same connection sees all of them
  t.same((await c.find({}, { projection: { _id: 0 } }).toArray()), [{ a: 1, b: 1 }, { a: 2 }])
  t.same(await mongo.db('admin').admin().ping(), { ok: 1 })
  t.equal(server.connections.current >= 1, true)
})

t.test('unknown commands and failures answer ok: 0 with a code', async t => {
  const { uri } = await startServer(t)
  const db = (await client(t, uri)).db('errors')
  await t.rejects(db.command({ nope: 1 }), { code: 59, codeName: 'CommandNotFound', message: "no such command: 'nope'" })
  await t.rejects(db.collection('c').find({ $bogus: 1 }).toArray(), { code: 2 })
  await t.rejects(db.command({ find: 'c', sort: { a: 2 } }), { code: 2 })
  await t.rejects(db.collection('c').find({}, { projection: { a: 1, b: 0 } }).toArray().then(async () => await db.collection('c').insertOne({ a: 1 })).then(async () => await db.collection('c').find({}, { projection: { a: 1, b: 0 } }).toArray()), { code: 2 })
  await t.rejects(db.command({ find: 'c', skip: -1 }), { code: 2 })
  await t.rejects(db.command({ find: 'c', limit: 1.5 }), { code: 2 })
  await t.rejects(db.command({ find: 'c', filter: 'x' }), { code: 2 })
  await t.rejects(db.command({ find: 'c', sort: 'x' }), { code: 2 })
  await t.rejects(db.command({ find: 'c', batchSize: -1 }), { code: 2 })
  await t.rejects(db.command({ find: 'c', batchSize: 'x' }), { code: 14 })
  await t.rejects(db.command({ find: 'c', tailable: true }), { code: 2 })
  await t.rejects(db.command({ find: 'c', singleBatch: 'x' }), { code: 14 })
  await t.rejects(db.command({ find: 5 }), { code: 14 })
  await t.rejects(db.command({ find: 'bad$name' }), { code: 73 })
  await t.rejects(db.command({ getMore: 'x', collection: 'c' }), { code: 14 })
  await t.rejects(db.command({ getMore: Long.fromNumber(1), collection: 5 }), { code: 14 })
  await t.rejects(db.command({ killCursors: 'c', cursors: 'x' }), { code: 14 })
  await t.rejects(db.command({ insert: 'c', documents: [] }), { code: 16 })
  await t.rejects(db.command({ insert: 'c', documents: 'x' }), { code: 14 })
  await t.rejects(db.command({ insert: 'c', documents: [1] }), { code: 14 })
  t.match(await db.command({ insert: 'c', documents: [{ _id: [1] }, { _id: /x/ }], ordered: false }), { n: 0, writeErrors: [{ index: 0, code: 2 }, { index: 1, code: 2 }] })
  await t.rejects(db.command({ update: 'c', updates: [{ q: {}, u: 5 }] }).then(reply => { throw new MongoServerError(reply.writeErrors[0]) }), { code: 9 })
  t.match(await db.command({ update: 'c', updates: [{ q: {}, u: [1] }, { q: {}, u: { $set: { a: 1 }, b: 1 } }, { q: {}, u: { a: 1, $set: { b: 1 } } }, { q: 'x', u: {} }], ordered: false }), {
    n: 0,
    writeErrors: [{ index: 0, code: 9 }, { index: 1, code: 9 }, { index: 2, code: 9 }, { index: 3, code: 2 }]
  })
  await t.rejects(db.command({ count: 'c', limit: 'x' }), { code: 14 })
  await t.rejects(db.command({ aggregate: 'c', pipeline: [], cursor: 5 }), { code: 14 })
  await t.rejects(db.command({ getParameter: 1, nope: 1 }), { code: 72 })
  await t.rejects(db.collection('c').updateOne({}, { $setOnInsert: 5 } as never, { upsert: true }).then(async () => await db.collection('c').updateOne({ zz: 1 }, { $setOnInsert: 5 } as never, { upsert: true })), { code: 2 })
  await t.rejects(db.command({ create: 'system.users' }), { code: 73 })
  await t.rejects(db.command({ create: '' }), { code: 73 })
  t.same(await db.admin().ping(), { ok: 1 }, 'still serving')
})
