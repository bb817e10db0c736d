import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import { importX } from 'eslint-plugin-import-x'
import neostandard from 'neostandard'

const SOURCES = ['{plugin,analysis,testing,load,demo-app,bench,test}/**/*.ts']

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'coverage/**', '.tap/**', 'demo-report/**']
  }),
  {
    files: SOURCES,
    plugins: { 'import-x': importX },
    settings: {
      // one lint run: resolutions need not expire (30 s by default, less than a run takes here)
      'import-x/cache': { lifetime: Infinity },
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // the sources import `./x.js` for `./x.ts` (NodeNext), which only the TypeScript resolver maps
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })]
    },
    rules: {
      // Import circles are found by `npm run lint:cycles` (madge): import-x's no-cycle skips
      // `import type`, and the circle that once joined the options, defaults and trend was all types.
      'import-x/no-restricted-paths': ['error', {
        zones: [{
          target: './plugin/types',
          from: './plugin',
          except: ['./types'],
          message: 'plugin/types/ holds the contract: it imports no implementation, only other type files'
        }]
      }]
    }
  }
]
