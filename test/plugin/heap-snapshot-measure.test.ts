import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { cacheScriptLineEnds } from '../../plugin/snapshot-line-ends.js'
import { measurePeakRss, readRss } from '../../plugin/snapshot/peak-rss.js'
import { newSnapshotId } from '../../plugin/snapshot/names.js'
import { flushLog } from '../../plugin/snapshot/lifecycle.js'
import { writeSnapshotFile } from '../../plugin/snapshot/writer.js'
import { tempDir } from '../helpers/build-app.js'

function status (rssKiB: number, hwmKiB?: number): string {
  return [
    'Name:\tnode',
    hwmKiB === undefined ? '' : `VmHWM:\t  ${hwmKiB} kB`,
    `VmRSS:\t  ${rssKiB} kB`,
    'Threads:\t7'
  ].join('\n')
}

t.test('the peak is measured from this process\'s /proc/self/status after resetting VmHWM', async (t) => {
  const measure = measurePeakRss()
  const keep = Array.from({ length: 200_000 }, (_, i) => ({ i }))
  const cost = measure.finish(50 * 1024 * 1024)
  t.equal(keep.length, 200_000)
  t.match(cost, { rssBeforeBytes: Number, peakRssBytes: Number, extraRssBytes: Number, costFactor: Number, peakRssIsUpperBound: false })
  t.ok(cost.peakRssBytes !== null && cost.rssBeforeBytes !== null && cost.peakRssBytes >= cost.rssBeforeBytes)
  const now = readRss()
  t.ok(now !== null && now.peakBytes >= now.rssBytes)
})

t.test('where the peak cannot be reset, it is reported as an upper bound', async (t) => {
  const dir = tempDir(t)
  const files = { status: join(dir, 'status'), clearRefs: join(dir, 'no', 'clear_refs'), fd: join(dir, 'fd') }
  writeFileSync(files.status, status(1000, 900_000))
  const measure = measurePeakRss(files)
  writeFileSync(files.status, status(1200, 901_000))
  t.same(measure.finish(1024 * 1024 * 100), {
    rssBeforeBytes: 1000 * 1024,
    peakRssBytes: 901_000 * 1024,
    extraRssBytes: 900_000 * 1024,
    costFactor: 8.79,
    peakRssIsUpperBound: true
  })
})

t.test('where /proc/self/status cannot be read, the cost is unknown (null)', async (t) => {
  const dir = tempDir(t)
  const files = { status: join(dir, 'status'), clearRefs: join(dir, 'clear_refs'), fd: join(dir, 'fd') }
  const unknown = { rssBeforeBytes: null, peakRssBytes: null, extraRssBytes: null, costFactor: null, peakRssIsUpperBound: false }
  t.same(measurePeakRss(files).finish(1000), unknown, 'no file')
  writeFileSync(files.status, status(1000))
  t.same(measurePeakRss(files).finish(1000), unknown, 'no VmHWM line')
  t.equal(readRss(files), null)
})

t.test('a failed write without /proc to look for descriptors still fails cleanly', async (t) => {
  const dir = tempDir(t)
  const files = { status: join(dir, 'status'), clearRefs: join(dir, 'clear_refs'), fd: join(dir, 'fd') }
  t.throws(() => writeSnapshotFile(join(dir, 'removed'), newSnapshotId(), { cacheLineEnds: false, proc: files, createdAt: new Date() }), { code: 'FST_MEMDIAG_SNAPSHOT_FAILED', statusCode: 500, message: /ENOENT/ })
})

t.test('line ends of the compiled scripts are cached through the inspector, except under coverage', async (t) => {
  t.equal(cacheScriptLineEnds(false, {}), false, 'not when turned off')
  t.equal(cacheScriptLineEnds(true, { NODE_V8_COVERAGE: '/tmp/coverage' }), false, 'not while V8 collects coverage for c8')
  t.equal(cacheScriptLineEnds(true, { _TAPJS_PROCESSINFO_COVERAGE_: '1' }), false, 'nor for tap')
  // The real thing would discard this process's coverage: it runs in a child without coverage.
  const script = "import { cacheScriptLineEnds } from './plugin/snapshot-line-ends.ts'; console.log(cacheScriptLineEnds(true, {}), cacheScriptLineEnds(true, {}))"
  const { NODE_V8_COVERAGE: _c8, NODE_OPTIONS: _options, _TAPJS_PROCESSINFO_COVERAGE_: _tap, ...env } = process.env
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url).pathname,
    env,
    encoding: 'utf8'
  })
  t.equal(output.trim(), 'true true', 'done, and again')
})

t.test('the log is flushed before the event loop blocks: pino\'s asynchronous destination, or at once', async (t) => {
  const file = join(tempDir(t), 'log')
  const destination = pino.destination({ dest: file, sync: false, minLength: 4096 })
  await once(destination, 'ready') // the file is opened asynchronously too
  const log = pino(destination)
  log.info('heap snapshot starting')
  t.equal(readFileSync(file, 'utf8'), '', 'still buffered')
  await flushLog(log)
  t.match(readFileSync(file, 'utf8'), /heap snapshot starting/, 'written out')
  destination.end()

  const noFlush = { info () {} } as unknown as FastifyBaseLogger
  await flushLog(noFlush)
  t.pass('a logger without flush')
})
