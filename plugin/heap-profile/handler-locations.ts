import { functionLocation } from './function-location.js'
import type { FunctionLocation } from './function-location.js'
import type { InspectorPost } from './profiler.js'

/**
 * Each route's handler location, asked of the inspector once per handler function (two commands,
 * when a profile is read, never per request).
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
        } catch {
          location = null // the profile is still worth answering without this route's attribution
        }
        known.set(handler, location)
      }
      located.set(route, location)
    }
    return located
  }
}
