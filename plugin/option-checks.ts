import { InvalidOptionError } from './errors.js'

// The checks every option goes through, each with its fallback when the option is left out.
// `name` is the option's path as the user writes it (`snapshot.maxFiles`), quoted in the message.

export function positiveInteger (value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidOptionError(`\`${name}\` must be a positive integer`)
  }
  return value
}

export function nonNegativeInteger (value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(`\`${name}\` must be an integer >= 0`)
  }
  return value
}

export function positiveNumber (value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`\`${name}\` must be a positive number`)
  }
  return value
}

export function booleanOption (value: unknown, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new InvalidOptionError(`\`${name}\` must be a boolean`)
  return value
}

export function stringOption (value: unknown, fallback: string, name: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '') {
    throw new InvalidOptionError(`\`${name}\` must be a non-empty string`)
  }
  return value
}

/** An optional group of options (`snapshot`, `trend`...): absent, or an object. */
export function optionalObject<T extends object> (value: T | undefined, name: string): T | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new InvalidOptionError(`\`${name}\` must be an object`)
  }
  return value
}
