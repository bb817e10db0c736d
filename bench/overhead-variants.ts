/** The servers bench/overhead.ts compares, `plain` first: every ratio is to it. */
export const VARIANTS = ['plain', 'plain-control', 'plugin', 'plugin-minimal', 'handler-traced', 'prom-client-defaults', 'under-pressure'] as const
export type Variant = typeof VARIANTS[number]

export const DESCRIPTIONS: Record<Variant, string> = {
  plain: 'Fastify and the route alone',
  'plain-control': 'the same, a second server: what the instrument reads when nothing differs',
  plugin: 'the plugin, all on: GC observer, sampler and trend, metrics on a prom-client registry',
  'plugin-minimal': 'the plugin without metrics',
  'handler-traced': 'no plugin, a no-op subscriber on Fastify\'s handler tracing channel: the part of the plugin that runs per request',
  'prom-client-defaults': 'prom-client collectDefaultMetrics() on a registry',
  'under-pressure': '@fastify/under-pressure with limits set (its onRequest hook runs on every request)'
}
