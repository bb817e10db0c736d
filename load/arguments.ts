/** A command-line value that must be a positive integer (`--duration 10`); throws the message to show. */
export function positiveIntegerArgument (value: string, name: string): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number <= 0) throw new Error(`--${name} must be a positive integer, got "${value}"`)
  return number
}
