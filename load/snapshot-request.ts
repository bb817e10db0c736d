import { setTimeout as sleep } from 'node:timers/promises'

const MAX_ATTEMPTS = 20

/**
 * `POST …/heap-snapshot` (with `query`), waiting out a `409`: the plugin holds its lock for a short
 * cool-down after each snapshot (at most 5 s; `Retry-After` says when to come back), so a script
 * that takes snapshots back to back meets it. Any other answer is returned as it is.
 */
export async function postHeapSnapshot (diagnosticsUrl: string, token: string, query = ''): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${diagnosticsUrl}/heap-snapshot${query}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    if (res.status !== 409 || attempt === MAX_ATTEMPTS) return res
    await res.arrayBuffer()
    await sleep(1000 * Number(res.headers.get('retry-after') ?? 1))
  }
}
