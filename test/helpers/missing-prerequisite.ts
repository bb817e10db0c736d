// The one rule for a test that needs what a machine may lack (root, a memory cgroup, promtool): on
// a developer's machine it is skipped, saying why; under CI it fails, saying why, since a skip
// there would report green for a check that never ran.

/** Under CI: `CI` set to anything but "", "0" or "false" (GitHub Actions, GitLab and others set CI=true). */
export function onCi (env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI
  return value !== undefined && !['', '0', 'false'].includes(value.trim().toLowerCase())
}

/**
 * `missing`: why the test cannot run here ("promtool is not on PATH..."), or false when nothing is
 * missing. Returns it for tap's `skip` option (`{ skip: missingPrerequisite(t, missing) }`); under
 * CI, when something is missing, also fails `t` (the file, or the test holding the case) with it.
 * The test itself stays skipped there: its body would only fail less clearly without what it needs.
 */
export function missingPrerequisite (t: { fail: (message: string) => unknown }, missing: string | false): string | false {
  if (missing !== false && onCi()) t.fail(`cannot run under CI: ${missing} (outside CI this test is skipped)`)
  return missing
}
