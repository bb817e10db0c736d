// What the load scripts send: realistic bodies, tenants drawn from a pool.
export type TargetName = 'posts' | 'leaking-posts' | 'sessions' | 'leaking-sessions'

export interface Target {
  path: string
  /** Statuses that are a normal answer under this load mix. */
  expectedStatuses: number[]
  body (tenant: string, sequence: number): Record<string, string>
}

const AUTHORS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'radia']
const TOPICS = ['Connection pools', 'Heap snapshots', 'Multi-tenancy', 'Event loop lag', 'GC pauses', 'Backpressure']
const PARAGRAPH = 'Memory climbed slowly after the deploy. Every request opened something that nothing closed. '

function pick<T> (items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!
}

function post (tenant: string, sequence: number) {
  return {
    tenant,
    title: `${pick(TOPICS)} #${sequence}`,
    content: PARAGRAPH.repeat(1 + Math.floor(Math.random() * 4)),
    author: pick(AUTHORS)
  }
}

// One checkout in five carries an expired coupon: a 422 after the session was stored, which is
// the error path the leaking cache never cleans.
function checkout (tenant: string, sequence: number) {
  const roll = Math.random()
  const body: Record<string, string> = { tenant, user: `${pick(AUTHORS)}-${sequence % 1000}`, plan: Math.random() < 0.7 ? 'monthly' : 'yearly' }
  if (roll < 0.2) body.coupon = pick(['SPRING23', 'BLACKFRIDAY22'])
  else if (roll < 0.4) body.coupon = 'WELCOME10'
  return body
}

export const TARGETS: Record<TargetName, Target> = {
  posts: { path: '/posts', expectedStatuses: [201], body: post },
  'leaking-posts': { path: '/leaking-posts', expectedStatuses: [201], body: post },
  sessions: { path: '/sessions', expectedStatuses: [201, 422], body: checkout },
  'leaking-sessions': { path: '/leaking-sessions', expectedStatuses: [201, 422], body: checkout }
}

export function tenantPool (size: number): string[] {
  return Array.from({ length: size }, (_, i) => `tenant-${String(i + 1).padStart(2, '0')}`)
}
