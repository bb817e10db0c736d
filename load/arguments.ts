import { integerProblem } from '../plugin/integer-check.js'

/** A command-line value that must be a positive integer (`--duration 10`); throws the message to show. */
export function positiveIntegerArgument (value: string, name: string): number {
  const number = Number(value)
  const problem = integerProblem(number, { min: 1, name: `--${name}`, expected: 'a positive integer', typed: value })
  if (problem !== null) throw new Error(problem)
  return number
}
