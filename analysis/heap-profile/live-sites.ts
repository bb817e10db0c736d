import type { HeapProfile, ProfileFrame, ProfileNode } from './read-heap-profile.js'

/** A frame as a person reads it: 1-based line and column of the function's start. */
export interface SiteFrame {
  readonly functionName: string
  readonly url: string
  readonly line: number
  readonly column: number
  /** Where the function starts in its source (TypeScript, before bundling), when the process had its source map. */
  readonly source?: { readonly url: string, readonly line: number, readonly column: number }
}

/** One stack's live bytes in one profile, with the route whose handler is on it (innermost). */
export interface LiveStack {
  /** Innermost first. */
  readonly frames: readonly SiteFrame[]
  readonly bytes: number
  readonly route: string | null
}

/**
 * Every stack with live bytes in the profile, keyed by the allocating function (its name, url,
 * line and column: what stays the same from one profile of the process to the next) and then
 * by the whole stack. `positions`: the original positions of source-mapped frames (by default the
 * ones the process added).
 */
export function liveStacks (profile: HeapProfile, positions: Readonly<Record<string, SiteFrame['source']>> = profile.metadata?.sourcePositions ?? {}): Map<string, Map<string, LiveStack>> {
  const handlers = new Map<string, string>()
  for (const { route, handler } of profile.metadata?.routes ?? []) {
    if (handler !== null) handlers.set(positionKey(handler), route)
  }
  const bySite = new Map<string, Map<string, LiveStack>>()
  const pending: Array<{ node: ProfileNode, callers: SiteFrame[], route: string | null }> =
    profile.head.children.map((node) => ({ node, callers: [], route: null }))
  while (pending.length > 0) {
    const { node, callers, route: outer } = pending.pop()!
    const frames = [siteFrame(node.callFrame, positions), ...callers]
    const route = handlers.get(positionKey(node.callFrame)) ?? outer
    if (node.selfSize > 0) {
      const site = frameKey(frames[0]!)
      let stacks = bySite.get(site)
      if (stacks === undefined) {
        stacks = new Map()
        bySite.set(site, stacks)
      }
      const stackKey = frames.map(frameKey).join('\n')
      const before = stacks.get(stackKey)
      stacks.set(stackKey, { frames, bytes: (before?.bytes ?? 0) + node.selfSize, route })
    }
    for (const child of node.children) pending.push({ node: child, callers: frames, route })
  }
  return bySite
}

export function siteFrame ({ functionName, url, lineNumber, columnNumber }: ProfileFrame, positions: Readonly<Record<string, SiteFrame['source']>> = {}): SiteFrame {
  const source = positions[`${url}:${lineNumber}:${columnNumber}`]
  return { functionName: functionName === '' ? '(anonymous)' : functionName, url, line: lineNumber + 1, column: columnNumber + 1, ...(source === undefined ? {} : { source }) }
}

export function frameKey ({ functionName, url, line, column }: SiteFrame): string {
  return `${functionName} ${url}:${line}:${column}`
}

function positionKey ({ scriptId, lineNumber, columnNumber }: { scriptId: string, lineNumber: number, columnNumber: number }): string {
  return `${scriptId}:${lineNumber}:${columnNumber}`
}
