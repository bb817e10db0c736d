// One check for every count: the options gate, the analysis, the load scripts and the benches.
import t from 'tap'
import { integerProblem } from '../../plugin/integer-check.js'
import { positiveIntegerArgument } from '../../load/arguments.js'

t.test('an integer of at least min passes; anything else is named with what it got', async (t) => {
  t.equal(integerProblem(3, { min: 3, name: 'top' }), null)
  t.equal(integerProblem(0, { min: 0, name: 'paths' }), null)
  t.equal(integerProblem(2, { min: 3, name: 'top' }), 'top must be an integer >= 3, got 2')
  t.equal(integerProblem(1.5, { min: 1, name: '`snapshot.maxFiles`', expected: 'a positive integer' }), '`snapshot.maxFiles` must be a positive integer, got 1.5')
  t.equal(integerProblem('5', { min: 1, name: 'top' }), 'top must be an integer >= 1, got "5"', 'a string is quoted: it reads as text')
  t.equal(integerProblem(Infinity, { min: 1, name: 'top' }), 'top must be an integer >= 1, got Infinity')
  t.equal(integerProblem(NaN, { min: 1, name: 'top' }), 'top must be an integer >= 1, got NaN')
  t.equal(integerProblem({}, { min: 1, name: 'top' }), 'top must be an integer >= 1, got an object')
  t.equal(integerProblem([], { min: 1, name: 'top' }), 'top must be an integer >= 1, got an array')
})

t.test('a command-line value is quoted as typed', async (t) => {
  t.equal(positiveIntegerArgument('10', 'duration'), 10)
  t.throws(() => positiveIntegerArgument('0', 'duration'), new Error('--duration must be a positive integer, got "0"'))
  t.throws(() => positiveIntegerArgument('ten', 'duration'), new Error('--duration must be a positive integer, got "ten"'))
})
