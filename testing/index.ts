// `fastify-memory-diagnostics/testing`: the leak gate for a test suite (node-tap, node:test, any
// runner that fails on a rejected promise). It loads the analysis but not Fastify.
export { assertNoLeaks, LeakGateError, measureLeaks } from './leak-gate.js'
export type { GateFinding, LeakGateOptions, LeakGateResult, LeakGateTarget } from './types.js'
