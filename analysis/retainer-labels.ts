import type { HeapSnapshot } from './snapshot.js'

// Types whose node name is a value (string contents, a number, a regexp source...): snapshots
// hold tokens and user data, so a path never prints them, only the type.
const NAME_IS_LABEL: ReadonlySet<string> = new Set(['object', 'native', 'synthetic', 'hidden', 'array', 'code', 'object shape'])

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
// V8 14 (Node 26) marks a context's global object `global (global*)` and its proxy `global (global)`
// (`Window (global*)` in a page); V8 13 and older named both `global`, which is how a path reads them.
const GLOBAL_MARK = / \(global\*?\)(?= \/ |$)/

/** How a node reads in a retainer path: `Foo`, `handler()`, `system / Context`, `(string)`, `global` (the global object, on any line). */
export function nodeLabel (snapshot: HeapSnapshot, ordinal: number): string {
  return labelOf(snapshot.nodeTypeNames[snapshot.nodeType[ordinal] as number] as string, snapshot.strings[snapshot.nodeName[ordinal] as number] as string)
}

/** `nodeLabel` of a node of this type and name. */
export function labelOf (type: string, name: string): string {
  if (type === 'closure') return `${name === '' ? '(anonymous)' : name}()`
  if (NAME_IS_LABEL.has(type) && name !== '') return type === 'object' && name.includes(' (global') ? name.replace(GLOBAL_MARK, '') : name
  return `(${type})`
}

/** How an edge reads after its source node, as in DevTools: `.name`, `[3]`, `->name`, `{map}`. */
export function edgeLabel (snapshot: HeapSnapshot, edge: number): string {
  const type = snapshot.edgeTypeNames[snapshot.edgeType[edge] as number] as string
  const nameOrIndex = snapshot.edgeNameOrIndex[edge] as number
  switch (type) {
    case 'element':
      return `[${nameOrIndex}]`
    case 'hidden':
      return `{${nameOrIndex}}`
    case 'context':
      return `->${stringName(snapshot, nameOrIndex)}`
    case 'internal':
      return `{${stringName(snapshot, nameOrIndex)}}`
    default:
      return propertyAccess(stringName(snapshot, nameOrIndex))
  }
}

function stringName (snapshot: HeapSnapshot, index: number): string {
  return snapshot.strings[index] as string
}

function propertyAccess (name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`
}
