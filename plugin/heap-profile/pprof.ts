import { gzipSync } from 'node:zlib'
import { Function as PprofFunction, Label, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format'
import type { HeapProfileDocument } from './profile-document.js'
import { PROFILE_METADATA_KEY } from './profile-document.js'
import type { CallFrame, SamplingNode } from './sampling-profile.js'

/**
 * The profile as gzipped pprof (`go tool pprof`, Pyroscope, Grafana): one sample per stack with
 * live objects sampled, values `[objects, bytes]` as Google's and Datadog's heap profiles give
 * them, a `route` label where a route's handler is on the stack, and the pid, times, settings and
 * request counts in the profile's comments (pprof has no other place for them).
 */
export function encodePprof (document: HeapProfileDocument): Buffer {
  const meta = document[PROFILE_METADATA_KEY]
  const strings = new StringTable()
  const functions = new Map<string, PprofFunction>()
  const locations = new Map<string, Location>()
  const samples: Sample[] = []
  const counts = new Map<number, number>()
  for (const sample of document.samples) counts.set(sample.nodeId, (counts.get(sample.nodeId) ?? 0) + 1)
  const handlers = new Map<string, string>()
  for (const { route, handler } of meta.routes) {
    if (handler !== null) handlers.set(positionKey(handler), route)
  }
  const routeKey = strings.dedup('route')

  function locationOf (frame: CallFrame): Location {
    const key = frameKey(frame)
    let location = locations.get(key)
    if (location !== undefined) return location
    let fn = functions.get(key)
    if (fn === undefined) {
      fn = new PprofFunction({
        id: functions.size + 1,
        name: strings.dedup(frame.functionName === '' ? '(anonymous)' : frame.functionName),
        filename: strings.dedup(frame.url),
        startLine: frame.lineNumber + 1
      })
      functions.set(key, fn)
    }
    location = new Location({ id: locations.size + 1, line: [new Line({ functionId: fn.id, line: frame.lineNumber + 1, column: frame.columnNumber + 1 })] })
    locations.set(key, location)
    return location
  }

  const pending: Array<{ node: SamplingNode, stack: number[], route: string | null }> =
    document.head.children.map((node) => ({ node, stack: [], route: null }))
  while (pending.length > 0) {
    const { node, stack: callers, route: outer } = pending.pop()!
    const stack = [locationOf(node.callFrame).id as number, ...callers]
    const route = handlers.get(positionKey(node.callFrame)) ?? outer
    if (node.selfSize > 0) {
      samples.push(new Sample({
        locationId: stack,
        value: [counts.get(node.id) ?? 0, node.selfSize],
        label: route === null ? [] : [new Label({ key: routeKey, str: strings.dedup(route) })]
      }))
    }
    for (const child of node.children) pending.push({ node: child, stack, route })
  }

  const comment = [
    `fastify-memory-diagnostics heap profile: pid ${meta.pid} on ${meta.hostname}, taken ${meta.takenAt}, sampling since ${meta.since}`,
    `intervalBytes=${meta.intervalBytes} stackDepth=${meta.stackDepth}`,
    ...meta.routes.map(({ route, requests }) => `requests ${route}=${requests}`)
  ].map((text) => strings.dedup(text))
  const takenAt = Date.parse(meta.takenAt)
  const profile = new Profile({
    sampleType: [new ValueType({ type: strings.dedup('objects'), unit: strings.dedup('count') }), new ValueType({ type: strings.dedup('space'), unit: strings.dedup('bytes') })],
    sample: samples,
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    timeNanos: BigInt(takenAt) * 1_000_000n,
    durationNanos: BigInt(Math.max(0, takenAt - Date.parse(meta.since))) * 1_000_000n,
    periodType: new ValueType({ type: strings.dedup('space'), unit: strings.dedup('bytes') }),
    period: meta.intervalBytes,
    comment
  })
  return gzipSync(profile.encode())
}

function frameKey (frame: CallFrame): string {
  return `${frame.functionName}\u0000${positionKey(frame)}`
}

// A function's start in its script names it alone (a handler's name may differ from its frame's).
function positionKey ({ scriptId, lineNumber, columnNumber }: Pick<CallFrame, 'scriptId' | 'lineNumber' | 'columnNumber'>): string {
  return `${scriptId}:${lineNumber}:${columnNumber}`
}
