const KIB = 1024
const MIB = 1024 * KIB
const GIB = 1024 * MIB

/** Binary units, as operators read memory limits (`memory.max`, `--max-old-space-size`). */
export function formatBytes (bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(2)} GiB`
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`
  return `${(bytes / KIB).toFixed(1)} KiB`
}
