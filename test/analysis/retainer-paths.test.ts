import t from 'tap'
import { ClassTable, classifyNodes } from '../../analysis/class-names.js'
import { findRetainerPaths } from '../../analysis/retainer-paths.js'
import type { RetainerPath } from '../../analysis/retainer-paths.js'
import { HeapSnapshotParser } from '../../analysis/snapshot-parser.js'
import { snapshotText } from './fixtures.js'
import type { EdgeSpec, NodeSpec } from './fixtures.js'

/** Paths to the nodes at `targets` (positions in `nodes`), each counted as new. */
function pathsTo (nodes: readonly NodeSpec[], targets: readonly number[]): RetainerPath[] {
  const parser = new HeapSnapshotParser()
  parser.write(Buffer.from(snapshotText(nodes)))
  const snapshot = parser.end()
  const table = new ClassTable()
  const classOf = classifyNodes(snapshot, table)
  const isNew = new Uint8Array(snapshot.nodeCount)
  for (const target of targets) isNew[target] = 1
  const classes = [...new Set(targets.map((target) => classOf[target] as number))]
  return findRetainerPaths(snapshot, { classes, classNames: table.names, classOf, isNew })
}

const prop = (name: string, to: number): EdgeSpec => ({ type: 'property', name, to })
const object = (name: string, id: number, edges: EdgeSpec[] = []): NodeSpec => ({ type: 'object', name, id, size: 16, edges })

/**
 * 0 root → 1 (GC roots) → 2 (Global handles); 0 root ⇒ 3 global. Nodes from 4 on are the
 * test's; `handles` and `globals` are the edges of (Global handles) and of the global object.
 */
function heap (globals: EdgeSpec[], handles: EdgeSpec[], rest: NodeSpec[]): NodeSpec[] {
  return [
    { type: 'synthetic', name: '', id: 1, edges: [{ type: 'element', name: 1, to: 1 }, { type: 'shortcut', name: 'global', to: 3 }] },
    { type: 'synthetic', name: '(GC roots)', id: 3, edges: [{ type: 'element', name: 1, to: 2 }] },
    { type: 'synthetic', name: '(Global handles)', id: 5, edges: handles },
    { type: 'object', name: 'global', id: 7, size: 40, edges: globals },
    ...rest
  ]
}

t.test('objects reachable from the global object are reached from there, even by a longer path', async (t) => {
  const nodes = heap([prop('a', 4)], [{ type: 'element', name: 0, to: 7 }], [
    object('Holder', 11, [prop('b', 5)]),
    object('Box', 13, [prop('c', 6)]),
    object('Bag', 15, [prop('d', 7)]),
    object('Target', 17)
  ])
  const [path] = pathsTo(nodes, [7])
  t.equal(path?.text, '(GC roots) → global.a → Holder.b → Box.c → Bag.d → Target')
  t.equal(path?.className, 'Target')
  t.equal(path?.nodeId, 17)
  t.same(path?.steps.map((step) => [step.label, step.nodeType, step.nodeId, step.edge, step.edgeType]), [
    ['(GC roots)', 'synthetic', 1, '.global', 'shortcut'],
    ['global', 'object', 7, '.a', 'property'],
    ['Holder', 'object', 11, '.b', 'property'],
    ['Box', 'object', 13, '.c', 'property'],
    ['Bag', 'object', 15, '.d', 'property'],
    ['Target', 'object', 17, null, null]
  ])
})

t.test('what the global object does not reach is reached from the system roots', async (t) => {
  const nodes = heap([], [{ type: 'element', name: 0, to: 4 }], [object('Holder', 11, [prop('x', 5)]), object('Target', 13)])
  const [path] = pathsTo(nodes, [5])
  t.equal(path?.text, '(GC roots) → (Global handles) → Holder.x → Target', 'the root is shown once, edges out of synthetic nodes are bare')
  t.same(path?.steps.map((step) => step.nodeId), [3, 5, 11, 13])
})

t.test('weak edges and shortcuts away from the root are not followed', async (t) => {
  const nodes = heap([prop('a', 4), prop('far', 6)], [], [
    object('Holder', 11, [{ type: 'weak', name: 'w', to: 5 }, { type: 'shortcut', name: 's', to: 7 }]),
    object('WeaklyHeld', 13),
    object('Box', 15, [prop('strong', 5)]),
    object('ShortcutOnly', 17)
  ])
  const paths = pathsTo(nodes, [5, 7])
  t.same(paths.map((path) => path.text), ['(GC roots) → global.far → Box.strong → WeaklyHeld'], 'no path through a weak edge, none at all through a shortcut')
})

t.test('a WeakMap value is reached through its key, not through the table', async (t) => {
  const entry = '1 / part of key (Key @17) -> value (Value @19) pair in WeakMap (table @15)'
  const nodes = heap([prop('map', 4), prop('holder', 6)], [], [
    object('WeakMap', 11, [{ type: 'internal', name: 'table', to: 5 }]),
    { type: 'hidden', name: 'system / EphemeronHashTable', id: 15, size: 32, edges: [{ type: 'internal', name: entry, to: 8 }] },
    object('Holder', 13, [prop('key', 7)]),
    object('Key', 17, [{ type: 'internal', name: entry, to: 8 }]),
    object('Value', 19)
  ])
  t.equal(pathsTo(nodes, [8])[0]?.text, `(GC roots) → global.holder → Holder.key → Key{${entry}} → Value`)
})

t.test('shared V8 internals that only look like retainers are not followed', async (t) => {
  const nodes = heap([prop('context', 4), prop('descriptors', 5), prop('long', 10)], [], [
    { type: 'hidden', name: 'system / NativeContext', id: 11, size: 8, edges: [{ type: 'internal', name: 'sloppy_function_map', to: 6 }] },
    {
      type: 'array',
      name: '(map descriptors)',
      id: 13,
      size: 8,
      edges: [
        { type: 'internal', name: '4', to: 7 },
        { type: 'element', name: 7, to: 8 },
        { type: 'element', name: 3, to: 9 },
        { type: 'internal', name: 'enum_cache', to: 11 },
        { type: 'internal', name: '1', to: 12 }
      ]
    },
    object('FunctionMap', 15),
    object('SharedOdd', 17),
    object('SharedOddToo', 19),
    object('Kept', 21),
    object('Detour', 23, [prop('map', 6)]),
    object('EnumCache', 25),
    object('KeptFirstSlot', 27)
  ])
  t.same(pathsTo(nodes, [6, 7, 8, 9, 11, 12]).map((path) => path.text), [
    '(GC roots) → global.long → Detour.map → FunctionMap',
    '(GC roots) → global.descriptors → (map descriptors)[3] → Kept',
    '(GC roots) → global.descriptors → (map descriptors){enum_cache} → EnumCache',
    '(GC roots) → global.descriptors → (map descriptors){1} → KeptFirstSlot'
  ])
})

t.test('labels read as in DevTools, and never show a value', async (t) => {
  const nodes = heap([prop('a b', 4)], [], [
    { type: 'closure', name: 'handler', id: 11, size: 32, edges: [{ type: 'internal', name: 'context', to: 5 }] },
    { type: 'hidden', name: 'system / Context', id: 13, size: 32, edges: [{ type: 'context', name: 'cache', to: 6 }] },
    object('Map', 15, [{ type: 'internal', name: 'table', to: 7 }]),
    { type: 'array', name: '(object elements)', id: 17, size: 32, edges: [{ type: 'element', name: 3, to: 8 }] },
    { type: 'closure', name: '', id: 19, size: 32, edges: [{ type: 'hidden', name: 2, to: 9 }] },
    object('', 21, [prop('token', 10)]),
    { type: 'concatenated string', name: 'Bearer secret-token', id: 23, size: 32, edges: [{ type: 'internal', name: 'first', to: 11 }] },
    { type: 'native', name: 'Target', id: 25, size: 8 }
  ])
  t.equal(pathsTo(nodes, [11])[0]?.text,
    '(GC roots) → global["a b"] → handler(){context} → system / Context->cache → Map{table} → (object elements)[3] → (anonymous)(){2} → (object).token → (concatenated string){first} → Target')
})

t.test('one path per class, in the order asked, none for a class whose new objects are unreachable', async (t) => {
  const nodes = heap([prop('first', 4)], [{ type: 'element', name: 0, to: 5 }], [
    object('FromGlobal', 11),
    object('FromHandles', 13),
    object('Orphan', 15)
  ])
  t.same(pathsTo(nodes, [6, 5, 4]).map((path) => path.text), [
    '(GC roots) → (Global handles) → FromHandles',
    '(GC roots) → global.first → FromGlobal'
  ])
})

t.test('a path around a timer and a bound function is preferred, the shortest kept beside it', async (t) => {
  // global.timers → TimersList → Timeout._onTimeout → native_bind {bound_this} → Cache.data → Entry
  // (5 steps), and global.app → (closure) ->cache → Cache (through a scope variable, 6 steps).
  const internal = (name: string, to: number): EdgeSpec => ({ type: 'internal', name, to })
  const nodes = heap([prop('timers', 4), prop('app', 9)], [], [
    object('TimersList', 11, [prop('_idleNext', 5)]),
    object('Timeout', 13, [prop('_onTimeout', 6)]),
    { type: 'closure', name: 'native_bind', id: 15, size: 32, edges: [internal('bound_this', 7)] },
    object('Cache', 17, [prop('data', 8)]),
    object('Object', 19, [prop('k1', 12)]),
    object('App', 21, [prop('handler', 10)]),
    { type: 'closure', name: 'handler', id: 23, size: 32, edges: [internal('context', 11)] },
    { type: 'hidden', name: 'system / Context', id: 25, size: 32, edges: [{ type: 'context', name: 'cache', to: 7 }] },
    object('Entry', 27)
  ])
  const [path] = pathsTo(nodes, [12])
  t.equal(path?.text, '(GC roots) → global.app → App.handler → handler(){context} → system / Context->cache → Cache.data → Object.k1 → Entry')
  t.equal(path?.shortest?.text, '(GC roots) → global.timers → TimersList._idleNext → Timeout._onTimeout → native_bind(){bound_this} → Cache.data → Object.k1 → Entry')

  // Held by the timer alone: the shortest path is the only one, and it is shown.
  const timerOnly = nodes.map((node, i) => i === 9 ? { ...node, edges: [] } : node)
  const [only] = pathsTo(timerOnly, [12])
  t.match(only?.text, /Timeout\._onTimeout/)
  t.equal(only?.shortest, undefined)
})

t.test('V8 14 (Node 26): the root marks the native context, and its global object is where paths start, read `global`', async (t) => {
  // 0 root ⇒ 2 NativeContext {global_object} → 3 `global (global*)`, whose proxy 4 `global (global)`
  // points back by shortcuts; the native context is also reachable from the global object's function.
  const internal = (name: string, to: number): EdgeSpec => ({ type: 'internal', name, to })
  const nodes: NodeSpec[] = [
    { type: 'synthetic', name: '', id: 1, edges: [{ type: 'element', name: 1, to: 1 }, { type: 'shortcut', name: '2', to: 2 }] },
    { type: 'synthetic', name: '(GC roots)', id: 3, edges: [] },
    { type: 'hidden', name: 'system / NativeContext', id: 5, size: 64, edges: [internal('global_proxy_object', 4), internal('global_object', 3), internal('cache', 7)] },
    object('global (global*)', 7, [prop('a', 5), prop('fn', 6), internal('global_proxy', 4), { type: 'hidden', name: 1, to: 4 }]),
    object('global (global)', 9, [{ type: 'shortcut', name: 'native_context', to: 2 }, { type: 'shortcut', name: 'global_object', to: 3 }]),
    object('Holder', 11, [prop('b', 8)]),
    { type: 'closure', name: 'fn', id: 13, size: 32, edges: [internal('context', 2)] },
    object('Cache', 15),
    object('Target', 17)
  ]
  const [path] = pathsTo(nodes, [8])
  t.equal(path?.text, '(GC roots) → global.a → Holder.b → Target', 'no `system / NativeContext{global_object}` step, the global object reads `global`')
  t.same(path?.steps.map((step) => [step.label, step.nodeType, step.nodeId, step.edge, step.edgeType]), [
    ['(GC roots)', 'synthetic', 1, '["2"]', 'shortcut'],
    ['global', 'object', 7, '.a', 'property'],
    ['Holder', 'object', 11, '.b', 'property'],
    ['Target', 'object', 17, null, null]
  ])
  t.equal(pathsTo(nodes, [7])[0]?.text, '(GC roots) → global.fn → fn(){context} → system / NativeContext{cache} → Cache',
    'the native context is reached from the global object, as on older lines')
  t.match(pathsTo(nodes, [4])[0]?.text, /^\(GC roots\) → global\{global_proxy\} → /, 'the proxy is reached from the global object')
})
