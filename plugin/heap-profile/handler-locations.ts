import { functionLocation } from './function-location.js'
import type { FunctionLocation } from './function-location.js'
import type { InspectorPost } from './profiler.js'

/**
 * Each route's handler location, asked of the inspector once per handler function (two commands,
 * when a profile is read, never per request), and again at the next read if the inspector failed.
 */
export function createHandlerLocations (post: InspectorPost): (handlers: Map<string, Function>) => Map<string, FunctionLocation | null> {
  const known = new WeakMap<Function, FunctionLocation | null>()
  return function locate (handlers) {
    const located = new Map<string, FunctionLocation | null>()
    for (const [route, handler] of handlers) {
      let location = known.get(handler)
      if (location === undefined) {
        try {
          location = functionLocation(post, handler)
          known.set(handler, location)
        } catch {
          // The profile is still worth answering without this route's attribution; the next read asks again.
          location = null
        }
      }
      located.set(route, location)
    }
    return located
  }
}
