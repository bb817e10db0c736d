// What does uploading a ~1 GB heap snapshot to an S3-compatible store cost, next to writing that
// snapshot to disk? Run: npm run bench:upload -- [--mb 1000] [--runs 3]
//
// Each run, the contenders take turns, each in a fresh child process:
//   write   a child holding a heap of distinct 1,000-character strings (V8 keeps up to 1,024
//           characters of each string in a snapshot, so about --mb of them make a --mb file)
//           writes it with v8.writeHeapSnapshot: the snapshot itself, the reference
//   disk    the file streamed through gzip level 1 into another file (the same pipeline, a disk
//           for a sink)
//   idle    a child doing nothing as long as the upload took: the loop delays the machine's
//           load alone causes, the baseline for the upload's
//   upload  the plugin's own upload (plugin/upload/: lib-storage multipart, 5 MiB parts (the default) or
//           BENCH_PART_MIB, 2 in flight, gzip level 1 on the way) of that file to moto's S3
//           server on 127.0.0.1, started as the tests start it; after a first small multipart
//           upload that loads the SDK's lazy parts, as in a service that uploaded before
//           (BENCH_COLD=1: without it)
// Measured in each child: wall time, peak extra RSS (VmHWM after resetting it through
// /proc/self/clear_refs, minus VmRSS before; the SDK is loaded before the reset), and the event
// loop's longest delay (monitorEventLoopDelay, 1 ms resolution) while it ran. A snapshot blocks
// the loop for its whole write; the goal for the upload is a peak extra RSS within 64 MB and no
// block of its own. Printed: the median of --runs runs and the range (min-max).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, createReadStream, existsSync, createWriteStream, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { writeHeapSnapshot } from 'node:v8'
import { createGzip } from 'node:zlib'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SELF = fileURLToPath(import.meta.url)
const MB = 1e6
// A fixed snapshot id: the plugin's store only opens files named as its snapshots are.
const ID = '20260101T000000.000Z-00000000000000be'

interface Sample {
  wallMs: number
  extraRssBytes: number
  maxLoopDelayMs: number
  p99LoopDelayMs: number
  bytes: number
}

function rssFields (): { rss: number, hwm: number } {
  const status = readFileSync('/proc/self/status', 'utf8')
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') }
}

/** Runs `work` with the peak RSS reset before it and the event loop watched during it. */
async function measured (work: () => Promise<number> | number): Promise<Sample> {
  writeFileSync('/proc/self/clear_refs', '5')
  const before = rssFields().rss
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  // a few turns first: a block right after enable() would go unrecorded
  await new Promise((resolve) => setTimeout(resolve, 20))
  const started = performance.now()
  const bytes = await work()
  const wallMs = performance.now() - started
  // a block at the very end is recorded when the loop next turns
  await new Promise((resolve) => setTimeout(resolve, 5))
  loop.disable()
  return { wallMs, extraRssBytes: rssFields().hwm - before, maxLoopDelayMs: loop.max / 1e6, p99LoopDelayMs: loop.percentile(99) / 1e6, bytes }
}

// ---- children ----

async function childWrite (dir: string, mb: number): Promise<Sample> {
  // distinct strings of 1,000 one-byte characters, from a small vocabulary (a real heap's text
  // compresses; random bytes would not)
  const words = Array.from({ length: 500 }, (_, i) => `word${(i * 7919).toString(36)}`)
  const kept: string[] = []
  for (let i = 0; i < mb * 1000; i++) {
    let text = `${i}:`
    for (let w = i; text.length < 1000; w += 13) text += `${words[w % words.length]} `
    kept.push(Buffer.from(text.slice(0, 1000), 'latin1').toString('latin1'))
  }
  const path = join(dir, `heap-${ID}.heapsnapshot`)
  const sample = await measured(() => {
    writeHeapSnapshot(path)
    return statSync(path).size
  })
  if (kept.length === 0) throw new Error('unreachable')
  return sample
}

/** The loop's own delays on this machine, doing nothing for as long as the upload took. */
async function childIdle (forMs: number): Promise<Sample> {
  return await measured(async () => {
    await new Promise((resolve) => setTimeout(resolve, forMs))
    return 0
  })
}

async function childDisk (dir: string): Promise<Sample> {
  const out = join(dir, 'copy.heapsnapshot.gz')
  const sample = await measured(async () => {
    await pipeline(createReadStream(join(dir, `heap-${ID}.heapsnapshot`)), createGzip({ level: 1 }), createWriteStream(out))
    return statSync(out).size
  })
  rmSync(out, { force: true })
  return sample
}

async function childUpload (dir: string, endpoint: string): Promise<Sample> {
  const { loadAwsSdk } = await import('../plugin/upload/sdk.js')
  const { createObjectStore, isFailedUpload } = await import('../plugin/upload/object-store.js')
  const { snapshotUpload } = await import('../plugin/upload/snapshot-upload.js')
  const { createSnapshotStore } = await import('../plugin/snapshot/store.js')
  const { resolveUpload } = await import('../plugin/upload/upload-options.js')
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3')
  const partMiB = Number(process.env.BENCH_PART_MIB ?? '5')
  const options = resolveUpload({ bucket: 'bench', endpoint, forcePathStyle: true, prefix: `run-${process.pid}/`, partSizeBytes: partMiB * 1024 * 1024 })
  if (options === null) throw new Error('unreachable')
  const objectStore = createObjectStore(await loadAwsSdk({ presign: false }), options)
  const store = createSnapshotStore({ dir, maxFiles: 10, maxAgeMs: 3_600_000 })
  const upload = snapshotUpload({ objectStore, store, removeLocalAfterUpload: false })
  const log = { info () {}, warn () {}, error (...args: unknown[]) { console.error(...args) } } as never
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1' })
  await client.send(new CreateBucketCommand({ Bucket: 'bench' })).catch(() => {})
  // a service has uploaded before: the SDK's lazily loaded parts (credential chain, the XML
  // parser, the multipart commands) are loaded by a first small multipart upload, not counted
  if (process.env.BENCH_COLD !== '1') {
    const first = await objectStore.upload({ name: 'warm-up', gzip: false, open: async () => Readable.from([Buffer.alloc(options.partSizeBytes + 1)]) }, log)
    if (isFailedUpload(first)) throw new Error(`warm-up upload failed: ${first.error.message}`)
  }
  const sample = await measured(async () => {
    const report = await upload(ID, log)
    if (isFailedUpload(report)) throw new Error(`upload failed: ${report.error.code}: ${report.error.message}`)
    return report.bytes
  })
  await objectStore.close()
  client.destroy()
  return sample
}

// ---- parent ----

async function runChild (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Sample> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`child ${args.join(' ')} exited ${code}`)
  return JSON.parse(out.trim().split('\n').at(-1) as string) as Sample
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
function figure (values: number[], unit: (value: number) => string): string {
  return `${unit(median(values))} (${unit(Math.min(...values))}-${unit(Math.max(...values))})`.padEnd(26)
}
const ms = (value: number) => value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`
const mbOf = (value: number) => `${Math.round(value / MB)} MB`

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '3' },
      // keeps the snapshot between bench runs: `write` is then measured only when the file is missing
      'snapshot-dir': { type: 'string' },
      child: { type: 'string' },
      dir: { type: 'string' },
      endpoint: { type: 'string' }
    }
  })
  if (values.child !== undefined) {
    const dir = values.dir as string
    const sample = values.child === 'write'
      ? await childWrite(dir, Number(values.mb))
      : values.child === 'disk'
        ? await childDisk(dir)
        : values.child === 'idle' ? await childIdle(Number(values.mb)) : await childUpload(dir, values.endpoint as string)
    console.log(JSON.stringify(sample))
    return
  }
  const mb = Number(values.mb)
  const runs = Number(values.runs)
  const kept = values['snapshot-dir']
  const dir = kept ?? join(tmpdir(), `memdiag-bench-upload-${process.pid}`)
  mkdirSync(dir, { mode: 0o700, recursive: true })
  let haveFile = kept !== undefined && existsSync(join(dir, `heap-${ID}.heapsnapshot`))
  closeSync(openSync(join(dir, '.bench'), 'w'))
  const teardowns: Array<() => unknown> = []
  try {
    const { startS3Server } = await import('../test/helpers/s3-server.js')
    const s3 = await startS3Server({ teardown: (fn) => teardowns.push(fn) })
    const env = s3.env
    const samples: Record<'write' | 'disk' | 'upload' | 'idle', Sample[]> = { write: [], disk: [], upload: [], idle: [] }
    for (let run = 1; run <= runs; run++) {
      if (!haveFile) samples.write.push(await runChild(['--child', 'write', '--dir', dir, '--mb', String(mb)]))
      haveFile = kept !== undefined
      samples.disk.push(await runChild(['--child', 'disk', '--dir', dir]))
      samples.upload.push(await runChild(['--child', 'upload', '--dir', dir, '--endpoint', s3.endpoint], env))
      samples.idle.push(await runChild(['--child', 'idle', '--dir', dir, '--mb', String(Math.round(samples.upload.at(-1)!.wallMs))]))
      console.error(`run ${run}/${runs}: write ${samples.write.length === 0 ? '(kept file)' : ms(samples.write.at(-1)!.wallMs)}, disk ${ms(samples.disk.at(-1)!.wallMs)}, upload ${ms(samples.upload.at(-1)!.wallMs)}`)
    }
    const snapshotBytes = statSync(join(dir, `heap-${ID}.heapsnapshot`)).size
    console.log(`\nheap snapshot of ${mbOf(snapshotBytes)} (${mb * 1000} strings of 1,000 characters), Node ${process.version}, median (min-max) of ${runs} runs\n`)
    console.log(`${'contender'.padEnd(10)}${'wall time'.padEnd(26)}${'peak extra RSS'.padEnd(26)}${'longest loop delay'.padEnd(26)}${'p99 loop delay'.padEnd(26)}bytes out`)
    for (const name of ['write', 'disk', 'upload', 'idle'] as const) {
      const rows = samples[name]
      if (rows.length === 0) continue
      console.log(`${name.padEnd(10)}${figure(rows.map((s) => s.wallMs), ms)}${figure(rows.map((s) => s.extraRssBytes), mbOf)}` +
        `${figure(rows.map((s) => s.maxLoopDelayMs), ms)}${figure(rows.map((s) => s.p99LoopDelayMs), ms)}${mbOf(median(rows.map((s) => s.bytes)))}`)
    }
    console.log('(idle: a child doing nothing for as long as the upload took: the loop delays this machine\'s load causes by itself)')
    const ratio = (a: Sample[], b: Sample[], field: keyof Sample) => (median(a.map((s) => s[field])) / median(b.map((s) => s[field]))).toFixed(2)
    if (samples.write.length > 0) console.log(`\nupload / write: wall ${ratio(samples.upload, samples.write, 'wallMs')}×, peak extra RSS ${ratio(samples.upload, samples.write, 'extraRssBytes')}×`)
    console.log(`upload / disk:  wall ${ratio(samples.upload, samples.disk, 'wallMs')}×, peak extra RSS ${ratio(samples.upload, samples.disk, 'extraRssBytes')}×`)
    const worstRss = Math.max(...samples.upload.map((s) => s.extraRssBytes))
    console.log(`goal: upload's peak extra RSS ≤ 64 MB: ${worstRss <= 64 * MB ? 'met' : 'NOT met'} (worst run ${mbOf(worstRss)})`)
  } finally {
    for (const fn of teardowns.reverse()) await fn()
    if (kept === undefined) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
