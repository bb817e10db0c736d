// A package-lock.json for a consumer project, made of the entries of this repository's own lock:
// `npm ci --offline` then installs every dependency from npm's cache (where `npm ci` of this
// repository put them) without asking the registry anything, and the packed tarball from its file.
// Nothing here is a test.

interface LockEntry {
  version?: string
  integrity?: string
  resolved?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  [field: string]: unknown
}

export interface Lockfile {
  lockfileVersion: number
  packages: Record<string, LockEntry>
}

export interface PackedTarball {
  name: string
  version: string
  /** The tarball's file name, relative to the consumer project. */
  file: string
  integrity: string
  dependencies: Record<string, string>
  /** npm ci links the bins the lock names, not those of the package.json it unpacks. */
  bin: Record<string, string>
}

/** Where Node (and npm) find `name` from the package installed at `from` ('' for the project). */
function resolveIn (lock: Lockfile, from: string, name: string): string | null {
  let base = from
  for (;;) {
    const candidate = `${base === '' ? '' : base + '/'}node_modules/${name}`
    if (lock.packages[candidate] !== undefined) return candidate
    if (base === '') return null
    const parent = base.lastIndexOf('/node_modules/')
    base = parent === -1 ? '' : base.slice(0, parent)
  }
}

function requiredNames (entry: LockEntry): string[] {
  const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional === true).map(([name]) => name))
  return [
    ...Object.keys(entry.dependencies ?? {}),
    ...Object.keys(entry.optionalDependencies ?? {}),
    ...Object.keys(entry.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name))
  ]
}

/** The lock of a project that depends on `roots` (names this repository's lock has) and on the tarball. */
export function consumerLockfile (repoLock: Lockfile, roots: string[], tarball: PackedTarball): { packageJson: object, lock: object } {
  const packages: Record<string, LockEntry> = {}
  const pending: Array<[string, string]> = [...roots, ...Object.keys(tarball.dependencies)].map((name) => ['', name])
  while (pending.length > 0) {
    const [from, name] = pending.pop()!
    const path = resolveIn(repoLock, from, name)
    if (path === null) {
      if (repoLock.packages[from]?.optionalDependencies?.[name] !== undefined) continue
      throw new Error(`${name} (needed by ${from || 'the project'}) is not in the repository's lock`)
    }
    if (packages[path] !== undefined) continue
    const { dev, devOptional, peer, ...entry } = repoLock.packages[path]!
    packages[path] = entry
    for (const dependency of requiredNames(entry)) pending.push([path, dependency])
  }
  const rootDependencies = {
    ...Object.fromEntries(roots.map((name) => [name, repoLock.packages[`node_modules/${name}`]!.version!])),
    [tarball.name]: `file:${tarball.file}`
  }
  packages[`node_modules/${tarball.name}`] = {
    version: tarball.version,
    resolved: `file:${tarball.file}`,
    integrity: tarball.integrity,
    dependencies: tarball.dependencies,
    bin: tarball.bin
  }
  const packageJson = { name: 'consumer-projects', private: true, dependencies: rootDependencies }
  return {
    packageJson,
    lock: { name: 'consumer-projects', lockfileVersion: 3, requires: true, packages: { '': { name: 'consumer-projects', dependencies: rootDependencies }, ...packages } }
  }
}
