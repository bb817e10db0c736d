import { InvalidOptionError } from './errors.js'
import { integerProblem, shown } from './integer-check.js'

// The checks every option goes through, each with its fallback when the option is left out.
// `name` is the option's path as the user writes it (`snapshot.maxFiles`), quoted in the message.

function checked<T, F> (value: unknown, fallback: F, name: string, valid: (value: unknown) => value is T, expected: string): T | F {
  if (value === undefined) return fallback
  if (!valid(value)) throw new InvalidOptionError(`\`${name}\` must be ${expected}, got ${shown(value)}`)
  return value
}

function integer<F> (value: unknown, fallback: F, name: string, min: number, expected?: string): number | F {
  if (value === undefined) return fallback
  const problem = integerProblem(value, { min, name: `\`${name}\``, expected })
  if (problem !== null) throw new InvalidOptionError(problem)
  return value as number
}

export function positiveInteger<F = number> (value: unknown, fallback: F, name: string): number | F {
  return integer(value, fallback, name, 1, 'a positive integer')
}

export function nonNegativeInteger (value: unknown, fallback: number, name: string): number {
  return integer(value, fallback, name, 0)
}

export function integerAtLeast (min: number, value: unknown, fallback: number, name: string): number {
  return integer(value, fallback, name, min)
}

/** An integer within `[min, max]`. */
export function integerBetween ({ min, max }: { min: number, max: number }, value: unknown, fallback: number, name: string): number {
  const checked = integer(value, fallback, name, min, `an integer from ${min} to ${max}`)
  if (checked > max) throw new InvalidOptionError(`\`${name}\` must be an integer from ${min} to ${max}, got ${checked}`)
  return checked
}

/** A positive finite number, fractions allowed (a ratio, a rate). */
export function positiveNumber (value: unknown, fallback: number, name: string): number {
  return checked(value, fallback, name, (v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive finite number')
}

export function booleanOption (value: unknown, fallback: boolean, name: string): boolean {
  return checked(value, fallback, name, (v): v is boolean => typeof v === 'boolean', 'a boolean')
}

export function stringOption (value: unknown, fallback: string, name: string): string {
  return checked(value, fallback, name, (v): v is string => typeof v === 'string' && v !== '', 'a non-empty string')
}

/** An optional group of options (`snapshot`, `trend`...): absent, or an object. */
export function optionalObject<T extends object> (value: T | undefined, name: string): T | undefined {
  return checked(value, undefined, name, (v): v is T => v !== null && typeof v === 'object', 'an object')
}
