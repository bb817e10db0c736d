// The holder a person would name, from a retainer path (leakCollection), and the package a file is in.
import t from 'tap'
import { packageOfFile } from '../../analysis/defining-files.js'
import { leakCollection } from '../../analysis/leak-path.js'
import type { RetainerStep } from '../../analysis/retainer-paths.js'

/** `Label.edge` steps as the retainer path gives them: [label, edge, edgeType, nodeType]. */
function steps (...parts: Array<[string, string | null, string | null, string?]>): RetainerStep[] {
  return parts.map(([label, edge, edgeType, nodeType], i) => ({ label, edge, edgeType, nodeType: nodeType ?? 'object', nodeId: i }))
}

t.test('a path that passes a timer bound to a cache is the cache\'s dictionary, not a timer leak', async (t) => {
  const path = steps(
    ['TimersList', '._idleNext', 'property'], ['Timeout', '._onTimeout', 'property'], ['native_bind()', '{bound_this}', 'internal', 'closure'],
    ['NodeCache', '.data', 'property'], ['Object', '["/items/17#1123"]', 'property'], ['Object', null, null])
  t.same(leakCollection(path), { kind: 'dictionary', label: 'NodeCache.data' })
})

t.test('a dictionary\'s keys are held by the same dictionary', async (t) => {
  const path = steps(
    ['system / Context', '->customerLookups', 'context', 'hidden'], ['Counter', '.hashMap', 'property'], ['Object', '{properties}', 'internal'],
    ['(object properties)', '{27}', 'hidden', 'array'], ['(string)', null, null, 'string'])
  t.same(leakCollection(path), { kind: 'dictionary', label: 'Counter.hashMap' })
})

t.test('new timers in the timer list are a timer leak', async (t) => {
  const path = steps(['Object', '[600000]', 'property'], ['TimersList', '._idleNext', 'property'], ['Timeout', '._idleNext', 'property'], ['Timeout', null, null])
  t.equal(leakCollection(path).kind, 'timers')
})

t.test('reactions to a promise that never settles are held by that promise', async (t) => {
  const path = steps(['Object', '.never', 'property'], ['Promise', '{reactions_or_result}', 'internal'], ['system / PromiseReaction', '{fulfill_handler}', 'internal', 'hidden'],
    ['(anonymous)()', null, null, 'closure'])
  t.same(leakCollection(path), { kind: 'promise', label: 'Object.never → Promise' })
})

t.test('a module variable holding a dictionary is named by the variable', async (t) => {
  const path = steps(['system / Context', '->cache', 'context', 'hidden'], ['Object', '["user-42"]', 'property'], ['Session', null, null])
  t.same(leakCollection(path), { kind: 'dictionary', label: 'variable cache' })
})

t.test('the package of a file under node_modules', async (t) => {
  t.equal(packageOfFile('/srv/app/node_modules/prom-client/lib/counter.js'), 'prom-client')
  t.equal(packageOfFile('file:///srv/app/node_modules/@opentelemetry/api/build/src/index.js'), '@opentelemetry/api')
  t.equal(packageOfFile('/srv/app/node_modules/a/node_modules/b/index.js'), 'b', 'the innermost package')
  t.equal(packageOfFile('C:\\srv\\node_modules\\pino\\pino.js'), 'pino')
  t.equal(packageOfFile('/srv/app/src/cache.js'), undefined, 'the app\'s own file')
  t.equal(packageOfFile('node:events'), undefined)
})
