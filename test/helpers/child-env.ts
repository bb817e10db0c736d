/**
 * The environment for a child run under tsx. tap's V8 coverage does not map tsx-compiled code
 * back correctly (it garbles the merged report), so such children report no coverage at all.
 */
export function uncoveredChildEnv (): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_V8_COVERAGE
  delete env.NODE_OPTIONS
  return env
}
