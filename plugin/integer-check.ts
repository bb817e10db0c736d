// The one check for counts and sizes: the options gate, the analysis (its own export, which must
// not load Fastify), the load scripts and the benches. It imports nothing, so any of them can.

export interface IntegerRule {
  /** The smallest value allowed. */
  min: number
  /** The option as the user writes it, quoting included: `` `snapshot.maxFiles` ``, `top`, `--duration`. */
  name: string
  /** How the rule reads in the message. @defaultValue `an integer >= <min>` */
  expected?: string
  /** What the user typed, when the value was parsed from it: the message quotes it rather than the number. */
  typed?: string
}

/** Why `value` breaks the rule, naming the option and what it got; `null` when it is an integer of at least `min`. */
export function integerProblem (value: unknown, rule: IntegerRule): string | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= rule.min) return null
  const got = rule.typed === undefined ? shown(value) : shown(rule.typed)
  return `${rule.name} must be ${rule.expected ?? `an integer >= ${rule.min}`}, got ${got}`
}

/** A rejected value as a message quotes it: a string in quotes (so `"5"` reads as text), an object by its kind. */
export function shown (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}
