import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

// Synthetic sampling heap profiles in V8's shape, with the plugin's metadata: what each stack
// holds live, and where each route's handler is.

export interface FixtureStack {
  /** Outermost first: `'name@line'` in the app's script, or `'name@line@url'` in another. */
  frames: string[]
  bytes: number
}

export interface FixtureProfile {
  stacks: FixtureStack[]
  requests?: Record<string, number>
  /** Route -> its handler's `'name@line'`. */
  handlers?: Record<string, string>
  since?: string
  takenAt?: string
  pid?: number
  metadata?: boolean
  /** `'name@line'` -> its original `[url, line, column]`. */
  sources?: Record<string, [string, number, number]>
}

const URL = 'file:///srv/app.js'

function frame (text: string) {
  const [functionName = '', line = '0', url = URL] = text.split('@')
  return { functionName, scriptId: url === URL ? '42' : url, url, lineNumber: Number(line) - 1, columnNumber: 4 }
}

export function profileJson ({ stacks, requests = {}, handlers = {}, since = '2026-01-01T00:00:00.000Z', takenAt = '2026-01-01T00:10:00.000Z', pid = 4242, metadata = true, sources = {} }: FixtureProfile): object {
  let nextId = 1
  const head = { callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, selfSize: 0, id: nextId++, children: [] as Node[] }
  interface Node { callFrame: ReturnType<typeof frame>, selfSize: number, id: number, children: Node[] }
  const samples: Array<{ size: number, nodeId: number, ordinal: number }> = []
  for (const { frames, bytes } of stacks) {
    let parent: Node = head as Node
    for (const text of frames) {
      let child = parent.children.find((c) => `${c.callFrame.functionName}@${c.callFrame.lineNumber + 1}` === text)
      if (child === undefined) {
        child = { callFrame: frame(text), selfSize: 0, id: nextId++, children: [] }
        parent.children.push(child)
      }
      parent = child
    }
    parent.selfSize += bytes
    samples.push({ size: bytes, nodeId: parent.id, ordinal: samples.length + 1 })
  }
  const routes = Object.entries(requests).map(([route, count]) => {
    const handler = handlers[route]
    return { route, requests: count, handler: handler === undefined ? null : { ...frame(handler), url: URL } }
  })
  return {
    head,
    samples,
    ...(metadata ? { memoryDiagnostics: { v: 1, pid, hostname: 'test', takenAt, since, intervalBytes: 32768, stackDepth: 128, routes, sourcePositions: positions(sources) } } : {})
  }
}

function positions (sources: Record<string, [string, number, number]>) {
  return Object.fromEntries(Object.entries(sources).map(([text, [url, line, column]]) => {
    const { lineNumber, columnNumber } = frame(text)
    return [`${URL}:${lineNumber}:${columnNumber}`, { url, line, column }]
  }))
}

export function writeProfiles (dir: string, profiles: FixtureProfile[], { gzip = false } = {}): string[] {
  return profiles.map((profile, i) => {
    const file = join(dir, `profile-${i}.heapprofile${gzip ? '.gz' : ''}`)
    const text = JSON.stringify(profileJson(profile))
    writeFileSync(file, gzip ? gzipSync(text) : text)
    return file
  })
}

/** Three profiles of a leak under `POST /leak` (its handler `leakHandler@10`, calling `Session@30`) beside a busy route's garbage. */
export function leakSeries (): FixtureProfile[] {
  const handlers = { 'POST /leak': 'leakHandler@10', 'GET /busy': 'busyHandler@20' }
  return [0, 1, 2].map((i) => ({
    handlers,
    requests: { 'POST /leak': 100 + 1000 * i, 'GET /busy': 5000 * (i + 1) },
    takenAt: `2026-01-01T00:1${i}:00.000Z`,
    stacks: [
      { frames: ['processTicks@1', 'leakHandler@10', 'Session@30'], bytes: 64_000 * (i + 1) },
      { frames: ['processTicks@1', 'leakHandler@10'], bytes: 10_000 * (i + 1) },
      // garbage: up and down
      { frames: ['processTicks@1', 'busyHandler@20', 'makeGarbage@25'], bytes: [90_000, 20_000, 70_000][i]! },
      // a cache filled once
      { frames: ['main@2', 'fillCache@40'], bytes: 50_000 }
    ]
  }))
}

const MONGOOSE = 'file:///srv/node_modules/mongoose/lib/mongoose.js'
const DRIVER = 'file:///srv/node_modules/mongodb/lib/mongo_client.js'

/**
 * A leak inside a library: the handler's `postModel@20` calls the library's `createConnection`
 * and `model`, each allocating through several of the library's functions; the driver's own
 * callbacks allocate too, with no app frame on their stack.
 */
export function librarySeries (): FixtureProfile[] {
  const handlers = { 'POST /leaking-posts': 'handler@10' }
  const app = ['processTicks@1@node:internal/process/task_queues', 'handler@10', 'postModel@20']
  return [0, 1, 2].map((i) => ({
    handlers,
    requests: { 'POST /leaking-posts': 1000 * i },
    takenAt: `2026-01-01T00:1${i}:00.000Z`,
    stacks: [
      { frames: [...app, `createConnection@409@${MONGOOSE}`, `Connection@7@${MONGOOSE}`], bytes: 9_000 * i + 1 },
      { frames: [...app, `createConnection@409@${MONGOOSE}`, `MongoClient@3@${DRIVER}`, 'addListener@615@node:events'], bytes: 8_000 * i + 1 },
      { frames: [...app, `model@1441@${MONGOOSE}`, `compile@5@${MONGOOSE}`], bytes: 10_000 * i + 1 },
      { frames: ['processTicks@1@node:internal/process/task_queues', `connect@50@${DRIVER}`], bytes: 30_000 * i + 1 }
    ]
  }))
}
