import { findSourceMap } from 'node:module'
import type { SourceMap } from 'node:module'
import type { SamplingNode } from './sampling-profile.js'

/** Where a frame's function starts in the source it was compiled from (1-based). */
export interface SourcePosition {
  url: string
  line: number
  column: number
}

/**
 * The original position of every frame whose script has a source map loaded in this process
 * (with `--enable-source-maps`, `process.setSourceMapsEnabled(true)`, or a loader that enables
 * them, as tsx does), keyed `url:line:column` with the frame's own 0-based position. Empty when
 * source maps are off: Node keeps none then.
 */
export function sourcePositions (head: SamplingNode): Record<string, SourcePosition> {
  const positions: Record<string, SourcePosition> = {}
  const maps = new Map<string, SourceMap | undefined>()
  const pending = [head]
  while (pending.length > 0) {
    const node = pending.pop()!
    pending.push(...node.children)
    const { url, lineNumber, columnNumber } = node.callFrame
    if (url === '' || lineNumber < 0) continue
    const key = `${url}:${lineNumber}:${columnNumber}`
    if (key in positions) continue
    if (!maps.has(url)) maps.set(url, mapOf(url))
    const entry = maps.get(url)?.findEntry(lineNumber, columnNumber) as Partial<{ originalSource: string, originalLine: number, originalColumn: number }> | undefined
    if (entry?.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) continue
    positions[key] = { url: entry.originalSource, line: entry.originalLine + 1, column: entry.originalColumn + 1 }
  }
  return positions
}

function mapOf (url: string): SourceMap | undefined {
  try {
    return findSourceMap(url)
  } catch {
    return undefined // a url Node cannot resolve (node:internal, eval)
  }
}
