import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping'
import type { ProfileNode } from './read-heap-profile.js'

/** An original position, 1-based, as `sourcePositions` in the plugin's metadata holds them. */
export interface DiskSourcePosition {
  readonly url: string
  readonly line: number
  readonly column: number
}

// The last `//# sourceMappingURL=` of a script (bundlers write it last; a string literal earlier in
// the file may hold the same text).
const MAPPING_URL = /\/\/[#@] sourceMappingURL=(\S+)\s*$/

/**
 * The original position of every frame of `head` whose script is a file readable here with a
 * source map: the `.map` its `//# sourceMappingURL=` names next to it, or an inline `data:` map.
 * For compiled code run without `--enable-source-maps`, the analysis reads what the process did
 * not. Keyed `url:line:column` with the frame's own 0-based position; scripts that cannot be read
 * (another machine's paths, `node:` builtins) are left as they are.
 */
export async function diskSourcePositions (heads: readonly ProfileNode[], known: Readonly<Record<string, unknown>> = {}): Promise<Record<string, DiskSourcePosition>> {
  const maps = new Map<string, TraceMap | null>()
  const positions: Record<string, DiskSourcePosition> = {}
  const pending = [...heads]
  while (pending.length > 0) {
    const node = pending.pop()!
    pending.push(...node.children)
    const { url, lineNumber, columnNumber } = node.callFrame
    const key = `${url}:${lineNumber}:${columnNumber}`
    if (lineNumber < 0 || key in known || key in positions || scriptPath(url) === null) continue
    if (!maps.has(url)) maps.set(url, await mapOf(url))
    const map = maps.get(url)
    if (map === null || map === undefined) continue
    const original = originalPositionFor(map, { line: lineNumber + 1, column: columnNumber })
    if (original.source === null || original.line === null || original.column === null) continue
    positions[key] = { url: original.source, line: original.line, column: original.column + 1 }
  }
  return positions
}

function scriptPath (url: string): string | null {
  if (url.startsWith('file://')) return fileURLToPath(url)
  return url.startsWith('/') ? url : null
}

async function mapOf (url: string): Promise<TraceMap | null> {
  const path = scriptPath(url)!
  let code: string
  try {
    code = await readFile(path, 'utf8')
  } catch {
    return null // not on this machine
  }
  const reference = MAPPING_URL.exec(code)?.[1]
  if (reference === undefined) return null
  try {
    const inline = /^data:application\/json(?:;charset=[\w-]+)?;base64,(.*)$/.exec(reference)
    const mapPath = inline === null ? resolve(dirname(path), decodeURIComponent(reference)) : null
    const text = inline === null ? await readFile(mapPath!, 'utf8') : Buffer.from(inline[1]!, 'base64').toString('utf8')
    // sources resolve against the map's own location, as file URLs (the frames' own form)
    return new TraceMap(text, pathToFileURL(mapPath ?? path).href)
  } catch {
    return null // a map missing or unreadable: the generated position stays
  }
}
