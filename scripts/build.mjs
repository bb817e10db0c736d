#!/usr/bin/env node
// Builds every entry of package.json's `exports` twice, from the same TypeScript sources:
// ESM into dist/esm and CommonJS into dist/cjs (marked by its own package.json), each with
// declarations and source maps that embed their sources. The bins are ESM only. Entries are read
// from `exports` and `bin`, so moving a folder only means editing those paths.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const FORMATS = { esm: 'dist/esm/', cjs: 'dist/cjs/' }
// `import.meta` in a file built to CommonJS: replaced below by its CommonJS equivalent.
const IMPORT_META_IN_COMMONJS = new Set([1343, 1470])

/** Every file path (a string leaf) under `exports`, with the condition path that leads to it. */
function exportTargets (node, conditions = []) {
  if (typeof node === 'string') return [{ conditions, target: node }]
  return Object.entries(node).flatMap(([key, value]) => exportTargets(value, [...conditions, key]))
}

function sourceOf (target, format) {
  const prefix = `./${FORMATS[format]}`
  if (!target.startsWith(prefix) || !target.endsWith('.js')) return null
  return join(root, target.slice(prefix.length).replace(/\.js$/, '.ts'))
}

function entriesFor (format) {
  const targets = exportTargets(pkg.exports).map(({ target }) => target)
  const bins = format === 'esm' ? Object.values(pkg.bin ?? {}) : []
  return [...new Set([...targets, ...bins].map((target) => sourceOf(target, format)).filter((source) => source !== null))]
}

function baseOptions () {
  const file = join(root, 'tsconfig.json')
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile)
  if (error) fail([error])
  return ts.parseJsonConfigFileContent(config, ts.sys, root).options
}

// `import.meta.url` → the same URL computed from CommonJS' __filename.
function importMetaToCommonJs (context) {
  const { factory } = context
  const visit = (node) => {
    if (ts.isPropertyAccessExpression(node) && ts.isMetaProperty(node.expression) && node.expression.keywordToken === ts.SyntaxKind.ImportKeyword && node.name.text === 'url') {
      const pathToFileURL = factory.createPropertyAccessExpression(
        factory.createCallExpression(factory.createIdentifier('require'), undefined, [factory.createStringLiteral('node:url')]),
        'pathToFileURL'
      )
      return factory.createPropertyAccessExpression(
        factory.createCallExpression(pathToFileURL, undefined, [factory.createIdentifier('__filename')]),
        'href'
      )
    }
    return ts.visitEachChild(node, visit, context)
  }
  return (sourceFile) => ts.visitNode(sourceFile, visit)
}

function compile (format) {
  const outDir = join(root, FORMATS[format])
  const options = {
    ...baseOptions(),
    noEmit: false,
    outDir,
    rootDir: root,
    declaration: true,
    sourceMap: true,
    inlineSources: true,
    ...(format === 'cjs'
      ? { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, verbatimModuleSyntax: false }
      : {})
  }
  const program = ts.createProgram(entriesFor(format), options)
  const transformers = format === 'cjs' ? { before: [importMetaToCommonJs] } : undefined
  const result = program.emit(undefined, undefined, undefined, false, transformers)
  // The ESM pass type-checks the sources; the CommonJS pass compiles the same ones, so it only
  // checks what can differ: syntax, options and module resolution under CommonJS' rules.
  const checked = format === 'esm'
    ? ts.getPreEmitDiagnostics(program)
    : [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSyntacticDiagnostics()]
  const diagnostics = [...checked, ...result.diagnostics]
    .filter((d) => !(format === 'cjs' && IMPORT_META_IN_COMMONJS.has(d.code)))
  if (diagnostics.length > 0 || result.emitSkipped) fail(diagnostics)
  if (format === 'cjs') writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n')
}

function fail (diagnostics) {
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n'
  }))
  process.exit(1)
}

rmSync(join(root, 'dist'), { recursive: true, force: true })
compile('esm')
compile('cjs')

const missing = [...exportTargets(pkg.exports).map(({ target }) => target), ...Object.values(pkg.bin ?? {}), pkg.main, pkg.types]
  .filter((target) => target !== undefined && !existsSync(join(root, target)))
if (missing.length > 0) {
  process.stderr.write(`build: package.json points at files that were not built: ${missing.join(', ')}\n`)
  process.exit(1)
}
process.stdout.write(`built ${relative(root, join(root, 'dist'))}/esm and dist/cjs\n`)
