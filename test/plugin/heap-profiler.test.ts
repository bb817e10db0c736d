// The profiler's state machine with a fake inspector: what the routes cannot reach on a Node that
// has an inspector, and errors of the inspector that are not V8's "not started".
import t from 'tap'
import { createHeapProfiler } from '../../plugin/heap-profile/profiler.js'
import type { InspectorPost } from '../../plugin/heap-profile/profiler.js'

const SETTINGS = { intervalBytes: 4096, stackDepth: 128 }

function fakeInspector (answer: (method: string) => unknown): { post: InspectorPost, calls: string[] } {
  const calls: string[] = []
  const post = (<T>(method: string): T => {
    calls.push(method)
    return answer(method) as T
  }) as InspectorPost
  return { post, calls }
}

const notStarted = () => { throw new Error('Inspector error -32000: V8 sampling heap profiler was not started.') }

t.test('without an inspector: 501 on start and read, nothing posted, stop is a no-op', async (t) => {
  const { post, calls } = fakeInspector(() => ({}))
  const profiler = createHeapProfiler({ post, available: false })
  t.throws(() => profiler.start(SETTINGS), { code: 'FST_MEMDIAG_HEAP_PROFILER_UNAVAILABLE', statusCode: 501 })
  t.throws(() => profiler.read(), { code: 'FST_MEMDIAG_HEAP_PROFILER_UNAVAILABLE' })
  t.equal(profiler.stop(), false)
  t.match(profiler.status(), { available: false, running: false })
  t.same(calls, [])
})

t.test('an inspector error other than "not started" is thrown as it is, and the state kept', async (t) => {
  let failing = false
  const { post } = fakeInspector((method) => {
    if (method === 'HeapProfiler.getSamplingProfile') return failing ? (() => { throw new Error('session broken') })() : notStarted()
    return { profile: { head: {}, samples: [] } }
  })
  const profiler = createHeapProfiler({ post, available: true })
  t.equal(profiler.start(SETTINGS), true)
  failing = true
  t.throws(() => profiler.read(), { message: 'session broken' })
  t.equal(profiler.status().running, true, 'not taken for a stop by someone else')
  t.equal(profiler.stop(), true)
  const other = createHeapProfiler({ post, available: true })
  t.throws(() => other.start(SETTINGS), { message: 'session broken' }, 'nor for someone else sampling')
})

t.test('stopping what someone else already stopped is a stop; another error is thrown', async (t) => {
  let stopError: () => never = notStarted
  const { post } = fakeInspector((method) => {
    if (method === 'HeapProfiler.getSamplingProfile') return notStarted()
    if (method === 'HeapProfiler.stopSampling') return stopError()
    return {}
  })
  const profiler = createHeapProfiler({ post, available: true })
  profiler.start(SETTINGS)
  t.equal(profiler.stop(), true)
  profiler.start(SETTINGS)
  stopError = () => { throw new Error('session broken') }
  t.throws(() => profiler.stop(), { message: 'session broken' })
  t.equal(profiler.status().running, false, 'forgotten either way: a second stop posts nothing')
})
