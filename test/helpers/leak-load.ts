import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { postHeapSnapshot } from '../../load/snapshot-request.js'

export interface LeakLoad {
  /** The app, `http://127.0.0.1:port`. */
  url: string
  /** Where the plugin's routes are (`/_diagnostics`). */
  diagnostics: string
  token: string
  /** The leaking route, or null for a run with only the busy route. */
  leak: { method: 'GET' | 'POST', path: string } | null
  /** Requests to the leaking route in each phase (the warm-up, then one per interval). */
  requestsPerPhase: number
  /** A route that only makes transient garbage, driven without pause over the whole run. */
  busyPath: string
  /** Where the downloaded snapshots are written. */
  dir: string
  /** Snapshots to take: the first after the warm-up. */
  snapshots: number
  /**
   * Also sample the heap from the start of the run (`POST …/heap-profile?intervalBytes=`) and
   * read a profile (`GET …/heap-profile`) right after each snapshot, over the same intervals.
   */
  heapProfile?: { intervalBytes: number }
}

/**
 * Real HTTP load with snapshots between its phases, as an operator takes them: the busy route
 * runs over the whole run (requests are in flight whenever a snapshot is taken), the leaking
 * route gets a fixed number of requests per phase, and after each phase a snapshot is taken and
 * downloaded gzip'ed through the plugin's route (`POST …/heap-snapshot?download=true`).
 * Returns the files, in order.
 */
export async function loadWithSnapshots (load: LeakLoad): Promise<string[]> {
  return (await loadWithSnapshotsAndProfiles(load)).snapshots
}

/** `loadWithSnapshots`, and the heap profiles read after each snapshot when `load.heapProfile` asks for them. */
export async function loadWithSnapshotsAndProfiles (load: LeakLoad): Promise<{ snapshots: string[], profiles: string[] }> {
  if (load.heapProfile !== undefined) await startHeapProfile(load, load.heapProfile.intervalBytes)
  const profiles: string[] = []
  // with a callback autocannon returns its instance, which can be stopped
  const busy = autocannon({ url: `${load.url}${load.busyPath}`, connections: 4, duration: 3600 }, () => {})
  const files: string[] = []
  try {
    for (let i = 0; i < load.snapshots; i++) {
      if (load.leak === null) {
        await new Promise((resolve) => setTimeout(resolve, 1500))
      } else {
        await autocannon({ url: `${load.url}${load.leak.path}`, method: load.leak.method, connections: 4, amount: load.requestsPerPhase })
      }
      files.push(await downloadSnapshot(load, join(load.dir, `snapshot-${i}.heapsnapshot.gz`)))
      if (load.heapProfile !== undefined) {
        // Read at once after the gzipped download, its zlib buffers were still live on the
        // server and once outgrew the leak's site (103 against 90 kB, Node 22): the server ends
        // the download's pipeline a moment after the client has its last byte. (Before the
        // snapshot instead, each profile shows the line ends the last snapshot had V8 compute.)
        await sleep(250)
        // source maps only in the last: Node parses and keeps each map, which later profiles would show as growth
        profiles.push(await downloadHeapProfile(load, join(load.dir, `profile-${i}.heapprofile`), { sourceMaps: i === load.snapshots - 1 }))
      }
    }
  } finally {
    busy.stop()
  }
  return { snapshots: files, profiles }
}

/** `POST {diagnostics}/heap-profile?intervalBytes=`: starts the sampling heap profiler. */
export async function startHeapProfile (load: Pick<LeakLoad, 'url' | 'diagnostics' | 'token'>, intervalBytes: number): Promise<void> {
  const res = await fetch(`${load.url}${load.diagnostics}/heap-profile?intervalBytes=${intervalBytes}`, { method: 'POST', headers: { authorization: `Bearer ${load.token}` } })
  const body = await res.text()
  if (res.status !== 201) throw new Error(`POST heap-profile answered ${res.status}: ${body.slice(0, 500)}`)
}

/** `GET {diagnostics}/heap-profile`: the profile of live memory now, written to `file`. */
export async function downloadHeapProfile (load: Pick<LeakLoad, 'url' | 'diagnostics' | 'token'>, file: string, { sourceMaps }: { sourceMaps: boolean }): Promise<string> {
  const res = await fetch(`${load.url}${load.diagnostics}/heap-profile${sourceMaps ? '?sourceMaps=true' : ''}`, { headers: { authorization: `Bearer ${load.token}` } })
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) throw new Error(`GET heap-profile answered ${res.status}: ${body.toString('utf8').slice(0, 500)}`)
  await writeFile(file, body, { mode: 0o600 })
  return file
}

/** `POST {diagnostics}/heap-snapshot?download=true`: the snapshot, gzip'ed, written to `file`. */
export async function downloadSnapshot (load: Pick<LeakLoad, 'url' | 'diagnostics' | 'token'>, file: string): Promise<string> {
  const res = await postHeapSnapshot(`${load.url}${load.diagnostics}`, load.token, '?download=true')
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== 201) throw new Error(`POST heap-snapshot answered ${res.status}: ${body.toString('utf8').slice(0, 500)}`)
  await writeFile(file, body, { mode: 0o600 })
  return file
}
