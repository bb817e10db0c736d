import Fastify from 'fastify'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Registry } from 'prom-client'
import { describe, expect, test } from 'tstyche'
import memoryDiagnosticsDefault, { memoryDiagnostics } from '../../plugin/index.js'
import type { AuthStrategy, MemoryDiagnosticsOptions, RateLimitOptions } from '../../plugin/index.js'

const app = Fastify()
const token = 'test-token-0123456789abcdef'

test('the default and the named export are the same plugin', () => {
  expect(memoryDiagnosticsDefault).type.toBe(memoryDiagnostics)
  expect(memoryDiagnostics).type.toBeAssignableTo<FastifyPluginAsync<MemoryDiagnosticsOptions>>()
})

describe('registration', () => {
  test('auth is required', () => {
    expect(app.register(memoryDiagnostics, { prefix: '/diag', auth: { tokens: [token] } })).type.not.toRaiseError()
    expect(app.register(memoryDiagnostics, { auth: false })).type.not.toRaiseError()
    expect(app.register(memoryDiagnostics, { prefix: '/diag' })).type.toRaiseError()
    expect(app.register(memoryDiagnostics, { auth: { tokens: [token], relation: 'xor' } })).type.toRaiseError()
  })

  test('a token may come from the environment as one string or several', () => {
    expect(app.register(memoryDiagnostics, { auth: { tokens: token } })).type.not.toRaiseError()
    expect(app.register(memoryDiagnostics, { auth: { tokens: [token, 'another-token-for-rotation'] } })).type.not.toRaiseError()
  })

  test('rate limits per route, the failed-auth budget, or none', () => {
    const limits: RateLimitOptions = {
      memory: { max: 10, timeWindow: '1 minute' },
      takeSnapshot: { max: 1, timeWindow: 600_000 },
      failedAuth: false
    }
    expect(app.register(memoryDiagnostics, { auth: { tokens: token }, rateLimit: limits })).type.not.toRaiseError()
    expect(app.register(memoryDiagnostics, { auth: { tokens: token }, rateLimit: false })).type.not.toRaiseError()
    expect(app.register(memoryDiagnostics, { auth: { tokens: token }, rateLimit: { memory: { max: '10' } } })).type.toRaiseError()
  })

  test('metrics take a prom-client Registry', () => {
    expect(app.register(memoryDiagnostics, { auth: { tokens: token }, metrics: { registry: new Registry(), route: true } })).type.not.toRaiseError()
    expect(app.register(memoryDiagnostics, { auth: { tokens: token }, metrics: { registry: {} } })).type.toRaiseError()
  })
})

describe('auth strategies', () => {
  test('an inline async strategy gets its parameter types from context, without annotations', () => {
    expect(app.register(memoryDiagnostics, {
      auth: {
        strategies: [async (request, reply) => {
          expect(request).type.toBe<FastifyRequest>()
          expect(reply).type.toBe<FastifyReply>()
          if (request.headers['x-api-key'] !== 'k') throw new Error('refused')
        }]
      }
    })).type.not.toRaiseError()
  })

  test('an inline callback strategy too, with `this` the Fastify instance', () => {
    expect(app.register(memoryDiagnostics, {
      auth: {
        strategies: [function (request, _reply, done) {
          expect(this).type.toBe<FastifyInstance>()
          expect(done).type.toBe<(error?: Error) => void>()
          done(request.ip === '10.0.0.1' ? undefined : new Error('refused'))
        }]
      }
    })).type.not.toRaiseError()
  })

  test('a strategy that returns something else is refused', () => {
    expect<AuthStrategy>().type.not.toBeAssignableFrom(async (request: FastifyRequest) => request.ip)
    expect<AuthStrategy>().type.not.toBeAssignableFrom((request: string) => request.length > 0)
  })
})
