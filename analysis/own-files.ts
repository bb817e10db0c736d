import { fileURLToPath } from 'node:url'
import { packageOfFile } from './defining-files.js'

const PACKAGE = 'fastify-memory-diagnostics'
// This package's plugin, as the snapshot of a process that loaded it from here names its files:
// a file URL (ESM, or TypeScript run from source) or a path (CommonJS).
const PLUGIN_DIR = new URL('../plugin/', import.meta.url)
const PLUGIN_PREFIXES = [PLUGIN_DIR.href, fileURLToPath(PLUGIN_DIR)]

/**
 * Whether a file of a snapshot is this package's plugin: installed (under
 * `node_modules/fastify-memory-diagnostics/`, wherever the snapshot was taken) or loaded from
 * this very copy. What it holds is the plugin's own state, bounded by its options (its recent
 * snapshot jobs, its trend window), which grows like a leak until its bound.
 */
export function isPluginFile (file: string): boolean {
  if (packageOfFile(file) === PACKAGE) return !/\/node_modules\/fastify-memory-diagnostics\/(?:dist\/(?:esm|cjs)\/)?(?:analysis|testing)\//.test(file.replaceAll('\\', '/'))
  return PLUGIN_PREFIXES.some((prefix) => file.startsWith(prefix))
}
