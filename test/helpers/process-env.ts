import type { Teardown } from './build-app.js'

/** Sets environment variables of this process for one test (the AWS SDK's default chain reads them), restored in teardown. */
export function useEnv (t: Teardown, env: Record<string, string>): void {
  const before = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
  Object.assign(process.env, env)
  t.teardown(() => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })
}
