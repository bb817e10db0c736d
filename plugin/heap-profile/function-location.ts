import type { InspectorPost } from './profiler.js'

/** Where a function is defined, as the inspector and the sampling profile's call frames say it (0-based). */
export interface FunctionLocation {
  functionName: string
  scriptId: string
  lineNumber: number
  columnNumber: number
}

// The function is parked on the global object for the one synchronous evaluate that turns it into
// a remote object, then removed: the inspector has no other way in from a value held in JS.
const PARKED = Symbol.for('fastify-memory-diagnostics:function-location')
const OBJECT_GROUP = 'fastify-memory-diagnostics:function-location'

interface Property { name: string, value?: { objectId?: string, value?: { scriptId?: string, lineNumber?: number, columnNumber?: number } } }

// Fastify binds each handler to its instance (route.js): the location is the target's.
const MAX_BOUND_LEVELS = 4

/**
 * The `[[FunctionLocation]]` V8 reports for `fn`: the same script id, line and column as the
 * sampling profile's call frame of that function, so a frame on a sample's stack can be matched
 * to a route's handler exactly, anonymous arrow functions included. Null for a native or bound function.
 */
export function functionLocation (post: InspectorPost, fn: Function): FunctionLocation | null {
  const holder = globalThis as Record<symbol, unknown>
  holder[PARKED] = fn
  try {
    const evaluated = post<{ result: { objectId?: string } }>('Runtime.evaluate', {
      expression: `globalThis[Symbol.for(${JSON.stringify(PARKED.description)})]`,
      objectGroup: OBJECT_GROUP,
      silent: true
    })
    let objectId = evaluated.result.objectId
    for (let level = 0; objectId !== undefined && level <= MAX_BOUND_LEVELS; level++) {
      const { internalProperties = [] } = post<{ internalProperties?: Property[] }>('Runtime.getProperties', { objectId, ownProperties: true })
      const location = internalProperties.find((p) => p.name === '[[FunctionLocation]]')?.value?.value
      if (location?.scriptId !== undefined && location.lineNumber !== undefined && location.columnNumber !== undefined) {
        return { functionName: unbound(fn.name), scriptId: location.scriptId, lineNumber: location.lineNumber, columnNumber: location.columnNumber }
      }
      objectId = internalProperties.find((p) => p.name === '[[TargetFunction]]')?.value?.objectId
    }
    return null
  } finally {
    delete holder[PARKED]
    post('Runtime.releaseObjectGroup', { objectGroup: OBJECT_GROUP })
  }
}

function unbound (name: string): string {
  return name.replace(/^(bound )+/, '')
}
