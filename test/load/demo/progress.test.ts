import t from 'tap'
import { Progress, progressLine, readingShown } from '../../../load/demo/progress.js'
import type { Sample } from '../../../load/demo/sampler.js'

const MB = 1024 * 1024
const sample = (t: number): Sample => ({
  t,
  phase: 'fixed',
  heapUsed: 35.1 * MB,
  heapTotal: 50 * MB,
  rss: 249.1 * MB,
  external: 0,
  gcShare: 0,
  majorGcs: 0,
  mongooseConnections: 25,
  verdict: null,
  verdictReason: null,
  timeToLimitSeconds: null,
  timeToLimit: null
})

function fakeStream (isTTY: boolean) {
  const writes: string[] = []
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } }
}

t.test('the progress line: seconds, phase, heap, RSS and connections in fixed columns', async (t) => {
  t.equal(progressLine(15.4, 'snap A', sample(15)), '[ 15 s] snap A   heapUsed   35.1 MB  RSS  249.1 MB  Mongoose connections 25')
  t.equal(readingShown(1, 3, 450, 1000), '2/3 45%')
  t.equal(readingShown(0, 3, 0, 0), '1/3 0%', 'an empty file does not divide by zero')
})

t.test('on a terminal the live line is redrawn in place and cleared before the next line', async (t) => {
  const { writes, stream } = fakeStream(true)
  const progress = new Progress(stream, () => 9)
  progress.show('fixed', undefined)
  progress.show('fixed', sample(3))
  progress.reading('A→B→C', '1/3 0%')
  progress.reading('A→B→C', '1/3 0%')
  progress.endLine()
  progress.say('fixed: done')
  t.same(writes, [
    '\r[  9 s] fixed    heapUsed   35.1 MB  RSS  249.1 MB  Mongoose connections 25\x1b[K',
    '\r[  9 s] find-leaks A→B→C: reading snapshot 1/3 0%\x1b[K',
    '\r\x1b[K',
    '[  9 s] fixed: done\n'
  ], 'nothing without a sample, and the same reading progress only once')
})

t.test('in a log, one line every five seconds of samples and no control characters', async (t) => {
  const { writes, stream } = fakeStream(false)
  const progress = new Progress(stream, () => 10)
  for (const at of [9, 10, 11]) progress.show('leaking', sample(at))
  progress.reading('C→D→E', '1/3 0%')
  progress.endLine()
  t.same(writes, ['[ 10 s] leaking  heapUsed   35.1 MB  RSS  249.1 MB  Mongoose connections 25\n'])
})
