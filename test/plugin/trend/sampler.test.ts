import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createMemorySampler } from '../../../plugin/trend/sampler.js'
import type { MemorySamplerOptions } from '../../../plugin/trend/sampler.js'

const samplerSource = fileURLToPath(new URL('../../../plugin/trend/sampler.ts', import.meta.url))

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

t.test('one sample at creation, from process.memoryUsage() on Date.now() by default', async (t) => {
  const before = Date.now()
  const memory = sampler(t, { intervalMs: 5000, capacityMs: 3_600_000 })
  const after = Date.now()
  t.equal(memory.capacity, 720)
  const [first, ...rest] = memory.series('heapUsed')
  t.same(rest, [])
  t.ok(first !== undefined && first.t >= before && first.t <= after && first.v > 0)
  t.same(memory.series('heapFloor'), [], 'no GC recorded yet: no floor')
})

t.test('the periodic ring keeps the newest samples, oldest first', async (t) => {
  const memory = sampler(t, { intervalMs: 1000, capacityMs: 4500, ...fakeSource() })
  t.equal(memory.capacity, 5, 'ceil(4500 / 1000)')
  for (let i = 0; i < 7; i++) memory.sample()
  t.same(memory.series('heapUsed').map((p) => p.t), [1_004_000, 1_005_000, 1_006_000, 1_007_000, 1_008_000], 'the 3 oldest were dropped')
  t.same(memory.series('rss', 1_007_000), [{ t: 1_007_000, v: 1007 }, { t: 1_008_000, v: 1008 }], 'sinceMs is inclusive')
  t.same(memory.series('external').map((p) => p.v), [14, 15, 16, 17, 18])
  t.same(memory.series('heapUsed', 2_000_000), [])
})

t.test('the floor of a sample is the lowest heap read after a GC since the previous sample', async (t) => {
  const memory = sampler(t, { intervalMs: 1000, capacityMs: 10_000, ...fakeSource() })
  memory.recordGc(false, 700)
  memory.recordGc(false, 650)
  memory.recordGc(true, 690)
  memory.sample()
  memory.sample()
  memory.recordGc(false, 800)
  memory.sample()
  t.same(memory.series('heapFloor'), [{ t: 1_003_000, v: 650 }, { t: 1_005_000, v: 800 }], 'a sample without a GC has no floor')
  t.same(memory.majorGcSeries(), [{ t: 1_002_000, v: 690 }], 'major GCs are kept on their own, timestamped when recorded')
})

t.test('major GC readings have their own bounded ring', async (t) => {
  const memory = sampler(t, { intervalMs: 1000, capacityMs: 10_000, majorGcCapacity: 3, ...fakeSource(1) })
  for (let i = 1; i <= 5; i++) memory.recordGc(true, 1000 * i)
  t.same(memory.majorGcSeries().map((p) => p.v), [3000, 4000, 5000])
  t.equal(memory.series('heapUsed').length, 1, 'the periodic ring is untouched')
})

t.test('the timer samples every intervalMs, is unref\'d, survives a failed read, and stop() clears it', async (t) => {
  const setIntervalCalls = t.capture(globalThis, 'setInterval', setInterval)
  const clearIntervalCalls = t.capture(globalThis, 'clearInterval', clearInterval)
  let failNext = false
  const source = fakeSource()
  const memory = createMemorySampler({
    intervalMs: 250,
    capacityMs: 10_000,
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
  t.equal(memory.series('rss').length, 2, 'a tick takes a sample')
  failNext = true
  t.doesNotThrow(tick, 'a failed read does not throw out of the timer')
  t.equal(memory.series('rss').length, 2, 'and is skipped')

  memory.stop()
  t.same(clearIntervalCalls().map((cleared) => cleared.args[0]), [timer], 'stop() clears that timer')
})

t.test('the real timer takes samples on its own', async (t) => {
  let reads = 0
  let third: () => void = () => {}
  const thirdRead = new Promise<void>((resolve) => { third = resolve })
  sampler(t, {
    intervalMs: 5,
    capacityMs: 1000,
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
    'const sampler = createMemorySampler({ intervalMs: 10, capacityMs: 1000 })',
    "console.log(sampler.series('rss').length)"
  ].join('\n')
  // The child loads the TypeScript source the way this test process does (process.execArgv holds
  // the loader): compiled differently, its coverage would land on the wrong offsets of the file.
  // The kill timeout only turns a hang (a ref'd timer) into a failure instead of a stuck run.
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { timeout: 60_000 })
  t.equal(stdout.trim(), '1', 'the child created the sampler, then exited with code 0')
})
