import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createMemorySampler } from '../../plugin/memory-sampler.js'
import type { MemorySamplerOptions } from '../../plugin/memory-sampler.js'

const samplerSource = fileURLToPath(new URL('../../plugin/memory-sampler.ts', import.meta.url))

/** A clock that moves by `stepMs` at each reading, and figures that grow by 1 at each reading. */
function fakeSource (stepMs = 1000): Required<Pick<MemorySamplerOptions, 'now' | 'readMemory'>> {
  let time = 1_000_000
  let reading = 0
  return {
    now: () => (time += stepMs),
    readMemory: () => {
      reading++
      return { rss: 1000 + reading, heapTotal: 500 + reading, heapUsed: 400 + reading, external: 10 + reading, arrayBuffers: reading }
    }
  }
}

function sampler (t: Test, options: MemorySamplerOptions): ReturnType<typeof createMemorySampler> {
  const created = createMemorySampler(options)
  t.teardown(() => created.stop())
  return created
}

t.test('rejects invalid options', async (t) => {
  const invalid: MemorySamplerOptions[] = [
    { intervalMs: 0 },
    { intervalMs: 1.5 },
    { capacityMs: -1 },
    { intervalMs: 5000, capacityMs: 4000 },
    { postGcCapacity: 0 }
  ]
  for (const options of invalid) {
    t.throws(() => createMemorySampler(options), { code: 'FST_MEMDIAG_INVALID_OPTION' }, JSON.stringify(options))
  }
})

t.test('defaults read process.memoryUsage() on Date.now(), one sample at creation', async (t) => {
  const before = Date.now()
  const memory = sampler(t, {})
  const after = Date.now()
  t.equal(memory.intervalMs, 5000)
  t.equal(memory.capacity, 720)
  const [first, ...rest] = memory.samples()
  t.same(rest, [])
  t.ok(first !== undefined && first.timestamp >= before && first.timestamp <= after)
  t.ok(first !== undefined && first.rss > 0 && first.heapUsed > 0 && first.heapTotal >= first.heapUsed)
})

t.test('the periodic ring keeps the newest samples, oldest first', async (t) => {
  const memory = sampler(t, { intervalMs: 1000, capacityMs: 4500, ...fakeSource() })
  t.equal(memory.capacity, 5, 'ceil(4500 / 1000)')
  for (let i = 0; i < 7; i++) memory.sample()

  const samples = memory.samples()
  t.equal(samples.length, 5, '8 samples taken, 5 kept')
  t.same(samples.map((sample) => sample.timestamp), [1_004_000, 1_005_000, 1_006_000, 1_007_000, 1_008_000], 'the 3 oldest were dropped')
  t.same(samples[0], { timestamp: 1_004_000, rss: 1004, heapTotal: 504, heapUsed: 404, external: 14, arrayBuffers: 4 })
  t.same(memory.samples(1_006_000).map((sample) => sample.heapUsed), [406, 407, 408], 'sinceMs is inclusive')
  t.same(memory.samples(2_000_000), [])
  t.same(memory.series('rss', 1_007_000), [{ t: 1_007_000, v: 1007 }, { t: 1_008_000, v: 1008 }])
  t.same(memory.series('arrayBuffers').map((point) => point.v), [4, 5, 6, 7, 8])
})

t.test('before it is full, the ring returns what it has', async (t) => {
  const memory = sampler(t, { intervalMs: 1000, capacityMs: 5000, ...fakeSource() })
  memory.sample()
  t.same(memory.samples().map((sample) => sample.timestamp), [1_001_000, 1_002_000])
})

t.test('post-GC readings have their own ring', async (t) => {
  const memory = sampler(t, { postGcCapacity: 3, ...fakeSource() })
  t.same(memory.postGcSamples(), [])
  for (let i = 1; i <= 5; i++) memory.recordPostGcHeap(100 * i, 1000 * i)
  t.same(memory.postGcSamples(), [
    { timestamp: 300, heapUsed: 3000 },
    { timestamp: 400, heapUsed: 4000 },
    { timestamp: 500, heapUsed: 5000 }
  ])
  t.same(memory.postGcSeries(400), [{ t: 400, v: 4000 }, { t: 500, v: 5000 }])
  t.equal(memory.samples().length, 1, 'the periodic ring is untouched')
})

t.test('the timer samples every intervalMs, is unref\'d, survives a failed read, and stop() clears it', async (t) => {
  const setIntervalCalls = t.capture(globalThis, 'setInterval', setInterval)
  const clearIntervalCalls = t.capture(globalThis, 'clearInterval', clearInterval)
  let failNext = false
  const source = fakeSource()
  const memory = createMemorySampler({
    intervalMs: 250,
    now: source.now,
    readMemory: () => {
      if (failNext) throw new Error('EMFILE')
      return source.readMemory()
    }
  })
  t.teardown(() => memory.stop())

  const [call, ...others] = setIntervalCalls()
  t.same(others, [], 'one timer')
  if (call === undefined || !('returned' in call)) throw new Error('setInterval was not called')
  t.equal(call.args[1], 250)
  const timer = call.returned
  t.equal(timer.hasRef(), false, 'unref\'d')

  const tick = call.args[0] as () => void
  tick()
  t.equal(memory.samples().length, 2, 'a tick takes a sample')
  failNext = true
  t.doesNotThrow(tick, 'a failed read does not throw out of the timer')
  t.equal(memory.samples().length, 2, 'and is skipped')

  memory.stop()
  t.same(clearIntervalCalls().map((cleared) => cleared.args[0]), [timer], 'stop() clears that timer')
})

t.test('the real timer takes samples on its own', async (t) => {
  let reads = 0
  let third: () => void = () => {}
  const thirdRead = new Promise<void>((resolve) => { third = resolve })
  sampler(t, {
    intervalMs: 5,
    readMemory: () => {
      if (++reads === 3) third()
      return process.memoryUsage()
    }
  })
  // The sampler's timer is unref'd: without a ref'd one, the test process would exit first.
  const keepAlive = setInterval(() => {}, 60_000)
  await thirdRead
  clearInterval(keepAlive)
  t.pass('three readings, one at creation and two from the timer')
})

t.test('a process that only creates a sampler exits on its own', async (t) => {
  const code = [
    `const { createMemorySampler } = await import(${JSON.stringify(samplerSource)})`,
    'const sampler = createMemorySampler({ intervalMs: 10 })',
    'console.log(sampler.samples().length)'
  ].join('\n')
  // The child loads the TypeScript source the way this test process does (process.execArgv holds
  // the loader): compiled differently, its coverage would land on the wrong offsets of the file.
  // The kill timeout only turns a hang (a ref'd timer) into a failure instead of a stuck run.
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { timeout: 60_000 })
  t.equal(stdout.trim(), '1', 'the child created the sampler, then exited with code 0')
})
