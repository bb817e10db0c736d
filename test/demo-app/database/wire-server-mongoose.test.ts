// Mongoose 9 round trips against the wire-compatible server.
import t from 'tap'
import mongoose, { Schema } from 'mongoose'
import { startServer } from './fixtures/wire.js'

const userSchema = new Schema({
  email: { type: String, required: true, unique: true },
  name: String,
  visits: { type: Number, default: 0 }
}, { timestamps: true })

const postSchema = new Schema({
  title: { type: String, required: true },
  author: { type: String, required: true }
}, { timestamps: true })
postSchema.index({ createdAt: -1 })

t.test('a model with a unique index: init, create, duplicate, find().sort().limit(), syncIndexes', async t => {
  const { uri } = await startServer(t)
  const connection = await mongoose.createConnection(`${uri}/acme`).asPromise()
  t.teardown(async () => await connection.close())

  const User = connection.model('User', userSchema)
  await User.init()
  t.same((await User.listIndexes()).map(index => index.name), ['_id_', 'email_1'], 'init created the collection and its indexes')

  const alice = await User.create({ email: 'alice@acme.test', name: 'Alice' })
  t.ok(alice._id instanceof mongoose.Types.ObjectId)
  t.ok(alice.createdAt instanceof Date)
  const duplicate = await User.create({ email: 'alice@acme.test', name: 'Again' }).catch((error: unknown) => error)
  t.match(duplicate, { name: 'MongoServerError', code: 11000, keyValue: { email: 'alice@acme.test' } })

  await User.insertMany([{ email: 'bob@acme.test', name: 'Bob' }, { email: 'carol@acme.test', name: 'Carol' }])
  const latest = await User.find({}, { email: 1 }).sort({ createdAt: -1, _id: -1 }).limit(2).lean()
  t.same(latest.map(user => user.email), ['carol@acme.test', 'bob@acme.test'])
  t.same(Object.keys(latest[0] ?? {}), ['_id', 'email'])

  const bumped = await User.findOneAndUpdate({ email: 'bob@acme.test' }, { $inc: { visits: 2 } }, { returnDocument: 'after' }).lean()
  t.equal(bumped?.visits, 2)
  t.equal(await User.countDocuments({ visits: { $gt: 0 } }), 1)
  t.equal(await User.estimatedDocumentCount(), 3)
  t.same((await User.distinct('name')).sort(), ['Alice', 'Bob', 'Carol'])
  const updated = await User.updateMany({}, { $set: { name: 'x' } })
  t.equal(updated.modifiedCount, 3)
  const doc = await User.findOne({ email: 'carol@acme.test' })
  t.ok(doc)
  if (doc !== null) {
    doc.name = 'Caroline'
    await doc.save()
  }
  t.equal((await User.findById(doc?._id).lean())?.name, 'Caroline', 'document.save() round trip')

  // an index Mongoose does not know about gets dropped, the schema's are kept
  await User.collection.createIndex({ name: 1 })
  const dropped = await User.syncIndexes()
  t.same(dropped, ['name_1'])
  t.same((await User.listIndexes()).map(index => index.name), ['_id_', 'email_1'])
  t.same(await User.diffIndexes(), { toDrop: [], toCreate: [] })

  const deleted = await User.deleteOne({ email: 'alice@acme.test' })
  t.equal(deleted.deletedCount, 1)
})

t.test('the blog model the demo uses, one database per tenant', async t => {
  const { uri } = await startServer(t)
  const tenants = ['acme', 'globex']
  const connections = await Promise.all(tenants.map(async tenant => await mongoose.createConnection(`${uri}/${tenant}`).asPromise()))
  t.teardown(async () => { await Promise.all(connections.map(async connection => await connection.close())) })
  const [acme, globex] = connections.map(connection => connection.model('Post', postSchema))
  if (acme === undefined || globex === undefined) throw new Error('unreachable')
  await Promise.all([acme.init(), globex.init()])
  for (let i = 0; i < 5; i++) await acme.create({ title: `acme ${i}`, author: 'a' })
  await globex.create({ title: 'globex 0', author: 'g' })
  const page = await acme.find({}, { title: 1, author: 1, createdAt: 1 }).sort({ createdAt: -1, _id: -1 }).limit(3).lean()
  t.same(page.map(post => post.title), ['acme 4', 'acme 3', 'acme 2'])
  t.same((await globex.find().lean()).map(post => post.title), ['globex 0'])
  t.same((await acme.listIndexes()).map(index => index.name), ['_id_', 'createdAt_-1'])
})

t.test('a connection per request, never closed: the server keeps up', async t => {
  const { uri, server } = await startServer(t)
  const connections: mongoose.Connection[] = []
  t.teardown(async () => { await Promise.all(connections.map(async connection => await connection.close())) })
  for (let i = 0; i < 30; i++) {
    const connection = mongoose.createConnection(`${uri}/tenant${i % 3}`)
    connections.push(connection)
    const Post = connection.model('Post', postSchema)
    await Post.create({ title: `post ${i}`, author: 'leak' })
  }
  t.ok(server.connections.current >= 30, `${server.connections.current} sockets open`)
  const count = await connections[0]?.model('Post').countDocuments()
  t.equal(count, 10)
})
