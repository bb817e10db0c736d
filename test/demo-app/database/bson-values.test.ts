import t from 'tap'
import { Binary, Decimal128, Long, ObjectId } from 'bson'
import { canonicalKey, cloneDocument, formatValue, sameValue, withIdFirst } from '../../../demo-app/database/wire-server/bson-values.js'

t.test('canonicalKey: equal exactly when MongoDB sees equal keys', async t => {
  t.equal(canonicalKey(undefined), canonicalKey(null), 'missing and null index alike')
  t.equal(canonicalKey(0), canonicalKey(-0))
  t.equal(canonicalKey(1), canonicalKey(Long.fromString('1')), 'numbers of any width')
  t.equal(canonicalKey(Long.fromString('9007199254740993')), 'n:9007199254740992')
  t.equal(canonicalKey(Decimal128.fromString('2.5')), canonicalKey(2.5))
  t.not(canonicalKey(1), canonicalKey('1'))
  t.equal(canonicalKey(true), 'true')
  t.not(canonicalKey(true), canonicalKey('true'))
  t.equal(canonicalKey([1, 'a']), canonicalKey([1, 'a']))
  t.not(canonicalKey([1, 2]), canonicalKey([2, 1]))
  t.equal(canonicalKey(new Date(5)), canonicalKey(new Date(5)))
  t.equal(canonicalKey(/a/i), 'r:a/i')
  const id = new ObjectId()
  t.equal(canonicalKey(id), canonicalKey(new ObjectId(id.toHexString())))
  t.equal(canonicalKey(new Binary(Buffer.from('ab'))), canonicalKey(new Binary(Buffer.from('ab'))))
  t.not(canonicalKey(new Binary(Buffer.from('ab'))), canonicalKey(new Binary(Buffer.from('ac'))))
  t.equal(canonicalKey({ a: 1, b: { c: 'x' } }), canonicalKey({ a: 1, b: { c: 'x' } }))
  t.not(canonicalKey({ a: 1, b: 2 }), canonicalKey({ b: 2, a: 1 }), 'documents compare field by field, in order')
  t.ok(sameValue({ a: 1 }, { a: 1 }))
})

t.test('formatValue prints like mongod messages', async t => {
  t.equal(formatValue(undefined), 'null')
  t.equal(formatValue(null), 'null')
  t.equal(formatValue('a"b'), '"a\\"b"')
  t.equal(formatValue(3), '3')
  t.equal(formatValue(false), 'false')
  t.equal(formatValue([1, 'x']), '[ 1, "x" ]')
  t.equal(formatValue(new Date(7)), 'new Date(7)')
  t.equal(formatValue(new ObjectId('0123456789abcdef01234567')), "ObjectId('0123456789abcdef01234567')")
  t.equal(formatValue(Long.fromString('9007199254740993')), '9007199254740993')
  t.equal(formatValue({}), '{}')
  t.equal(formatValue({ email: 'a@b', n: { x: 1 } }), '{ email: "a@b", n: { x: 1 } }')
})

t.test('cloneDocument keeps BSON types; withIdFirst puts (or makes) _id first', async t => {
  const id = new ObjectId()
  const doc = { a: { b: [1, 2] }, _id: id, when: new Date(1) }
  const copy = cloneDocument(doc)
  t.same(copy, doc)
  t.not(copy.a, doc.a, 'a deep copy')
  t.ok(copy._id instanceof ObjectId)
  t.same(Object.keys(withIdFirst(doc)), ['_id', 'a', 'when'])
  const first = { _id: 1, a: 2 }
  t.equal(withIdFirst(first), first, 'already first: the same object')
  const made = withIdFirst({ a: 1 })
  t.ok(made._id instanceof ObjectId)
  t.ok(withIdFirst({ _id: undefined, a: 1 })._id instanceof ObjectId)
})
