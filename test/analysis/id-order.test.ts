import t from 'tap'
import { sortOrdinalsById } from '../../analysis/id-order.js'

t.test('ordinals come out in the order of their ids, over the whole 32-bit range', async (t) => {
  const ids = new Uint32Array([0xffffffff, 3, 70_000, 1, 0x10000, 0xffff, 2 ** 31 + 5, 3, 0, 65_537])
  const ordinals = Uint32Array.from(ids.keys())
  const sorted = sortOrdinalsById(ordinals.slice(), ids)
  const expected = [...ordinals].sort((a, b) => (ids[a] as number) - (ids[b] as number) || a - b)
  t.same([...sorted], expected, 'sorted by id, equal ids in their first order')
})

t.test('a subset of the nodes, and an empty one', async (t) => {
  const ids = new Uint32Array([50, 40, 30, 20, 10])
  t.same([...sortOrdinalsById(new Uint32Array([0, 2, 4]), ids)], [4, 2, 0])
  t.same([...sortOrdinalsById(new Uint32Array(0), ids)], [])
})
