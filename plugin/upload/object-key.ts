import { hostname } from 'node:os'

// What an object is called in the bucket: `<prefix><hostname>/<pid>/<file name>.gz`. The hostname
// (a pod's name in Kubernetes) and the pid say which process it came from, the file name carries
// the capture's time and id, so keys sort by process, then by time, and never collide.

export interface KeyParts {
  prefix: string
  /** The file's own name (`heap-<id>.heapsnapshot`), before `.gz`. */
  name: string
  hostname?: string
  pid?: number
}

/** S3 takes any UTF-8 in a key, but `/` would add a level and some characters need escaping in URLs. */
function keySegment (value: string): string {
  const safe = value.replace(/[^A-Za-z0-9._-]/g, '_')
  return safe === '' || safe === '.' || safe === '..' ? '_' : safe
}

export function objectKey ({ prefix, name, hostname: host = hostname(), pid = process.pid }: KeyParts): string {
  return `${prefix}${keySegment(host)}/${pid}/${keySegment(name)}.gz`
}

/** A heap profile's file name: its time (as a snapshot id's, basic ISO 8601) and format. */
export function heapProfileFileName (takenAt: string, format: 'heapprofile' | 'pprof'): string {
  const basic = takenAt.replace(/[-:]/g, '')
  return format === 'pprof' ? `heap-profile-${basic}.pb` : `heap-profile-${basic}.heapprofile`
}
