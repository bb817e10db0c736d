import type { HeapDiff, HeapDiffRow, SnapshotSummary } from './diff.js'
import { leakCollection } from './leak-path.js'

export interface FormatHeapDiffOptions {
  /**
   * Print only the first rows.
   * @defaultValue all the rows of the diff
   */
  readonly top?: number
}

const NAME_WIDTH = 60
const HEADERS = ['Constructor', '# New', '# Deleted', '# Delta', 'Alloc. Size', 'Freed Size', 'Size Delta'] as const
const RETAINED_HEADER = 'Retained (new)'

/** The comparison as a text table, with the retainer paths below it. */
export function formatHeapDiff (diff: HeapDiff, options: FormatHeapDiffOptions = {}): string {
  const rows = diff.rows.slice(0, options.top ?? diff.rows.length)
  const lines = [
    summaryLine('Before', diff.before),
    summaryLine('After ', diff.after),
    `Change: ${signedCount(diff.after.nodeCount - diff.before.nodeCount)} nodes, ${signedBytes(diff.after.totalSize - diff.before.totalSize)}` +
      ` (${count(diff.totals.addedCount)} new, ${count(diff.totals.removedCount)} deleted objects)`,
    ''
  ]
  if (rows.length === 0) {
    lines.push('No object was added or deleted.')
  } else {
    lines.push(...table(rows))
  }
  const hidden = diff.classCount - rows.length
  if (hidden > 0) lines.push(`… ${count(hidden)} more classes (sorted by ${diff.sortBy}; show more with --top)`)
  if (diff.retainerPaths.length > 0) {
    lines.push('', 'Retainer paths (shortest path from the GC roots to one new object of the class):')
    for (const path of diff.retainerPaths) {
      lines.push(`  ${path.className} @${path.nodeId}`, `    ${path.text}`)
      // The path above goes around a timer or a bound function the shortest one passes.
      if (path.shortest !== undefined) lines.push(`    shortest path, through a timer or a bound function: ${path.shortest.text} @${path.shortest.nodeId}`)
      // The holder as find-leaks names it (a dictionary by its property, a timer leak only for new timers).
      if (path.steps.length > 1) {
        const holder = leakCollection(path.steps)
        lines.push(`    held by: ${holder.kind}${holder.label === '' ? '' : `  ${holder.label}`}`)
      }
    }
  }
  return lines.join('\n') + '\n'
}

function summaryLine (title: string, summary: SnapshotSummary): string {
  return `${title}: ${count(summary.nodeCount)} nodes, ${bytes(summary.totalSize)}  ${summary.file}`
}

function table (rows: readonly HeapDiffRow[]): string[] {
  const withRetained = rows.every((row) => row.addedRetainedSize !== undefined)
  const headers: readonly string[] = withRetained ? [...HEADERS, RETAINED_HEADER] : HEADERS
  const cells = rows.map((row) => [
    truncate(row.className),
    count(row.addedCount),
    count(row.removedCount),
    signedCount(row.countDelta),
    bytes(row.addedSize),
    bytes(row.removedSize),
    signedBytes(row.sizeDelta),
    ...(withRetained ? [bytes(row.addedRetainedSize as number)] : [])
  ])
  const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((line) => (line[column] as string).length)))
  const render = (line: readonly string[]): string => line
    .map((cell, column) => column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))
    .join('  ')
    .trimEnd()
  return [render(headers), ...cells.map(render)]
}

function truncate (name: string): string {
  const oneLine = name.replace(/\s+/g, ' ')
  return oneLine.length > NAME_WIDTH ? oneLine.slice(0, NAME_WIDTH - 1) + '…' : oneLine
}

function count (n: number): string {
  return n.toLocaleString('en-US')
}

function signedCount (n: number): string {
  return n > 0 ? `+${count(n)}` : count(n)
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const

/** Decimal units, as DevTools shows sizes. */
export function bytes (n: number): string {
  let value = Math.abs(n)
  let unit = 0
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000
    unit++
  }
  const text = unit === 0 ? String(value) : value.toFixed(value < 10 ? 2 : 1)
  return `${n < 0 ? '-' : ''}${text} ${UNITS[unit] as string}`
}

function signedBytes (n: number): string {
  return n > 0 ? `+${bytes(n)}` : bytes(n)
}
