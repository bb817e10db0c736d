import t from 'tap'
import * as pluginErrors from '../../plugin/errors.js'
import * as analysisErrors from '../../analysis/errors.js'
import { errorCodes } from '../../plugin/index.js'
import { errorCodes as analysisErrorCodes } from '../../analysis/index.js'

for (const [entry, module, codes] of [['.', pluginErrors, errorCodes], ['./analysis', analysisErrors, analysisErrorCodes]] as const) {
  t.test(`${entry}: errorCodes holds every error of its errors.ts, each under its own code`, async (t) => {
    const declared = Object.entries(module).filter(([name]) => name.endsWith('Error')).map(([, error]) => error)
    const listed: unknown[] = Object.values(codes)
    t.equal(listed.length, declared.length, 'none extra')
    t.ok(declared.every((error) => listed.includes(error)), 'none missing')
    for (const [code, FastifyError] of Object.entries(codes)) {
      const error = new (FastifyError as new (...args: unknown[]) => Error & { code: string })('a', 'b')
      t.equal(error.code, code)
    }
    t.ok(Object.isFrozen(codes))
  })
}
