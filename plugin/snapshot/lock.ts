/**
 * One heap snapshot at a time, from the request that takes it until it is written (and, for a
 * download, until the response is over): two at once would need twice the headroom the guard
 * checked, and the event loop is blocked during each anyway.
 */
export interface SnapshotLock {
  /** The id of the snapshot holding the lock, or null. */
  readonly holder: string | null
  /** Takes the lock for `id`; false when it is held. */
  acquire (id: string): boolean
  /** Releases the lock if `id` holds it; calling it again is harmless. */
  release (id: string): void
  /** Resolves once the lock is free (at once when it is). */
  whenFree (): Promise<void>
}

export function createSnapshotLock (): SnapshotLock {
  let holder: string | null = null
  const waiting: Array<() => void> = []
  return {
    get holder () {
      return holder
    },
    acquire (id) {
      if (holder !== null) return false
      holder = id
      return true
    },
    release (id) {
      if (holder !== id) return
      holder = null
      for (const resolve of waiting.splice(0)) resolve()
    },
    whenFree () {
      return holder === null ? Promise.resolve() : new Promise((resolve) => { waiting.push(resolve) })
    }
  }
}
