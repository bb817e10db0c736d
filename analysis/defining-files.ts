import type { HeapSnapshot } from './snapshot.js'

/**
 * The file that defines an object's class or a function, as the snapshot tells it: an object's
 * map has its prototype, whose `constructor` is the class's function; a function's shared
 * function info has its script, named by the file (V8 calls the edge `script_or_debug_info`, or
 * `script` in older versions). Built-ins and objects of `Object` have no script: undefined.
 */
export class DefiningFiles {
  readonly #snapshot: HeapSnapshot
  readonly #firstEdge: Uint32Array
  readonly #names: { map: number, prototype: number, constructor: number, shared: number, function: number, scripts: readonly number[] }
  readonly #closure: number

  constructor (snapshot: HeapSnapshot, firstEdge: Uint32Array) {
    this.#snapshot = snapshot
    this.#firstEdge = firstEdge
    const index = (name: string): number => snapshot.strings.indexOf(name)
    this.#names = {
      map: index('map'),
      prototype: index('prototype'),
      constructor: index('constructor'),
      shared: index('shared'),
      function: index('function'),
      scripts: [index('script_or_debug_info'), index('script')].filter((i) => i !== -1)
    }
    this.#closure = snapshot.nodeTypeNames.indexOf('closure')
  }

  /**
   * The file of the function that constructed `node` (or of `node` itself, a function); for an
   * object without a class of its own (an object literal a factory returns, as pino's
   * multistream), the file of its methods, when they are all from one.
   */
  of (node: number): string | undefined {
    if (this.#snapshot.nodeType[node] === this.#closure) return this.#fileOfFunction(node)
    const fn = this.#constructorOf(node)
    return (fn === undefined ? undefined : this.#fileOfFunction(fn)) ?? this.#fileOfMethods(node)
  }

  #fileOfMethods (node: number): string | undefined {
    const s = this.#snapshot
    let file: string | undefined
    for (let e = this.#firstEdge[node] as number, end = this.#firstEdge[node + 1] as number; e < end; e++) {
      const to = s.edgeToNode[e] as number
      if (s.edgeTypeNames[s.edgeType[e] as number] !== 'property' || s.nodeType[to] !== this.#closure) continue
      const own = this.#fileOfFunction(to)
      if (own === undefined || (file !== undefined && own !== file)) return undefined
      file = own
    }
    return file
  }

  #fileOfFunction (fn: number): string | undefined {
    const shared = this.#edgeTo(fn, this.#names.shared)
    if (shared === undefined) return undefined
    for (const name of this.#names.scripts) {
      const script = this.#edgeTo(shared, name)
      if (script === undefined) continue
      const file = this.#snapshot.strings[this.#snapshot.nodeName[script] as number] as string
      // Node's own modules are `node:events`; V8's natives and eval'd code have no name.
      return file === '' || file.startsWith('system / ') ? undefined : file
    }
    return undefined
  }

  /**
   * The file of the function whose scope a context belongs to, given what holds the context: a
   * closure, or a generator (an ES module's top level is one, on Node 24) through its `function`.
   */
  ofScopeHolder (holder: number): string | undefined {
    if (this.#snapshot.nodeType[holder] === this.#closure) return this.of(holder)
    const fn = this.#edgeTo(holder, this.#names.function)
    return fn !== undefined && this.#snapshot.nodeType[fn] === this.#closure ? this.of(fn) : undefined
  }

  #constructorOf (node: number): number | undefined {
    const map = this.#edgeTo(node, this.#names.map)
    const prototype = map === undefined ? undefined : this.#edgeTo(map, this.#names.prototype)
    const fn = prototype === undefined ? undefined : this.#edgeTo(prototype, this.#names.constructor)
    return fn !== undefined && this.#snapshot.nodeType[fn] === this.#closure ? fn : undefined
  }

  /** The target of `from`'s first edge named `name` (a property or an internal edge), if any. */
  #edgeTo (from: number, name: number): number | undefined {
    if (name === -1) return undefined
    const s = this.#snapshot
    for (let e = this.#firstEdge[from] as number, end = this.#firstEdge[from + 1] as number; e < end; e++) {
      const type = s.edgeTypeNames[s.edgeType[e] as number]
      if ((type === 'internal' || type === 'property') && s.edgeNameOrIndex[e] === name) return s.edgeToNode[e] as number
    }
    return undefined
  }
}

/** The npm package a file is in: the last `node_modules/` of its path (`@scope/name` or `name`), undefined for the app's own files. */
export function packageOfFile (file: string): string | undefined {
  const path = file.replace(/^file:\/\//, '').replaceAll('\\', '/')
  const at = path.lastIndexOf('/node_modules/')
  if (at === -1) return undefined
  const parts = path.slice(at + '/node_modules/'.length).split('/')
  const [first, second] = parts
  if (first === undefined || first === '') return undefined
  return first.startsWith('@') && second !== undefined ? `${first}/${second}` : first
}
