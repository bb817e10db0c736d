import t from 'tap'
import { postInspector } from '../../plugin/inspector-session.js'
import { createHandlerLocations } from '../../plugin/heap-profile/handler-locations.js'
import type { InspectorPost } from '../../plugin/heap-profile/profiler.js'

// The process's real inspector session, failing on demand: a failure must not stick to the handler.
function flakyInspector (): { post: InspectorPost, failNext: () => void, calls: () => number } {
  let fail = false
  let calls = 0
  const post = (<T>(method: string, params?: object): T => {
    calls++
    if (fail) {
      fail = false
      throw new Error('Inspector busy')
    }
    return postInspector<T>(method, params)
  }) as InspectorPost
  return { post, failNext: () => { fail = true }, calls: () => calls }
}

function handler (): string { return 'ok' }

t.test('a handler\'s location is asked once, and again after the inspector failed', async (t) => {
  const inspector = flakyInspector()
  const locate = createHandlerLocations(inspector.post)
  const routes = new Map<string, Function>([['GET /a', handler]])

  inspector.failNext()
  t.equal(locate(routes).get('GET /a'), null, 'no location while the inspector fails: the profile is answered without it')
  const found = locate(routes).get('GET /a')
  t.match(found, { functionName: 'handler', scriptId: /^\d+$/, lineNumber: Number, columnNumber: Number }, 'found at the next read')
  const calls = inspector.calls()
  t.same(locate(routes).get('GET /a'), found, 'then remembered')
  t.equal(inspector.calls(), calls, 'without asking the inspector again')
})
