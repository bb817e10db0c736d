// The reports' contract: the shapes of what the routes answer (`GET /memory`, `GET /gc-stats`,
// the snapshot's status and cost). Types only, and the value lists they derive from.
import type { HeapInfo, HeapSpaceInfo } from 'node:v8'
import type { TrendReport } from './trend.js'

export interface ContainerMemory {
  /** Where the figures come from: `cgroup-v2`, `cgroup-v1`, or `none` outside a memory cgroup. */
  source: 'cgroup-v2' | 'cgroup-v1' | 'none'
  /** The process's cgroup directory that was found, or null. */
  cgroupDir: string | null
  /** The effective memory limit (the smallest along the hierarchy); null when there is none. */
  limitBytes: number | null
  /** The file the effective limit was read from; null when there is no limit. */
  limitFile: string | null
  /** Current usage of the cgroup (includes page cache, as the OOM killer counts it). */
  usageBytes: number | null
  usageFile: string | null
  /** `process.constrainedMemory()`, null when absent or when it means "no limit". */
  constrainedMemoryBytes: number | null
}

export const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const
export type GcKind = typeof GC_KINDS[number]

export interface PauseStats {
  count: number
  totalMs: number
  maxMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
}

export interface GcPeriod {
  /** Wall time this period covers. */
  durationMs: number
  count: number
  totalPauseMs: number
  /** Share of the wall time spent paused in GC, between 0 and 1. */
  gcShare: number
  kinds: Record<GcKind, PauseStats>
}

export interface GcStats {
  sinceStart: GcPeriod & { startedAt: string }
  window: GcPeriod & { windowMs: number }
  timestamp: string
}

export interface SystemMemory {
  totalBytes: number
  /** MemAvailable from /proc/meminfo (libuv reads it for `os.freemem()` on Linux). */
  availableBytes: number
}

/** What lives outside the V8 heap: where to look when RSS grows and the heap does not. */
export interface OutsideHeap {
  /** C++ memory bound to JS objects (Buffers included), as V8 is told of it. */
  externalBytes: number
  arrayBuffersBytes: number
  /** Resident anonymous, file-backed and shared memory (/proc/self/status); null without /proc. */
  rssAnonBytes: number | null
  rssFileBytes: number | null
  rssShmemBytes: number | null
  threads: number | null
  /**
   * Resident memory no counter explains: anonymous RSS (RSS without /proc) minus the heap's
   * committed size and `external`. A native library's malloc, WebAssembly memory, thread stacks,
   * the allocator's own keep. The trend's `outsideHeap` is this value's slope.
   */
  unexplainedBytes: number
  /** `process.getActiveResourcesInfo()` counted by type: handles and requests keeping the loop alive. */
  activeResources: Record<string, number>
}

export interface MemoryReading {
  process: NodeJS.MemoryUsage
  outsideHeap: OutsideHeap
  heap: HeapInfo
  heapSpaces: HeapSpaceInfo[]
  container: ContainerMemory
  system: SystemMemory
  /**
   * RSS divided by the V8 heap's total size. Far above 1 (say 3 or more) means most of the
   * process's memory lives outside the JS heap: buffers, native addons, allocator fragmentation.
   */
  rssToHeapRatio: number
  pid: number
  hostname: string
  uptimeSeconds: number
  timestamp: string
}

/**
 * What an estimate rests on: `learned` from a snapshot this process really took of a heap about
 * this size (its measured extra peak RSS), `conservative-bound` from the worst cost per heap byte
 * measured on Node 20. (Counting objects with `v8.queryObjects` was measured and rejected: the
 * same 300k objects cost 103 MB or 438 MB depending on how they are held, at the same count.)
 */
export const ESTIMATE_BASES = ['learned', 'conservative-bound'] as const
export type EstimateBasis = typeof ESTIMATE_BASES[number]

export interface SnapshotEstimate {
  basis: EstimateBasis
  estimatedBytes: number
  /** The conservative bound for this heap, margin excluded. */
  boundBytes: number
  /** What the last snapshot really cost over its own bound, raised by a safety factor; null when not learned. */
  learnedRatio: number | null
  marginBytes: number
  largeObjectBytes: number
  otherHeapBytes: number
  /** What `snapshot.redact` adds (its worker thread, buffers and bitsets); 0 when off. */
  redactionBytes: number
}

/** Which constraint bounded the memory available to a snapshot. One list, also the schema's enum. */
export const HEADROOM_SOURCES = ['cgroup-v1', 'cgroup-v2', 'system', 'maxHeapUsedBytes'] as const
export type HeadroomSource = typeof HEADROOM_SOURCES[number]

export interface HeadroomVerdict {
  allowed: boolean
  reason: string
  heapUsedBytes: number
  estimatedBytes: number
  availableBytes: number
  source: HeadroomSource
  basis: EstimateBasis
  /** The figures the estimate was computed from. */
  estimate: SnapshotEstimate
  reusableBytes: number
}

/** The malloc in use: glibc keeps freed memory in the process, jemalloc returns it within seconds. */
export const ALLOCATORS = ['glibc', 'jemalloc', 'unknown'] as const
export type Allocator = typeof ALLOCATORS[number]

/** What the last snapshot left in this process, for `GET /memory` and the guard. */
export interface RetainedMemory {
  allocator: Allocator
  /** Whether the allocator gives freed memory back to the system (jemalloc: yes; glibc: mostly not). */
  returnsMemory: boolean
  /** RSS now above the RSS before the last snapshot, up to what that snapshot added; 0 before any. */
  retainedBytes: number
  /** The part of it the guard counts as reusable by the next snapshot. */
  reusableBytes: number
}

/** What a snapshot really cost, in native memory on top of the RSS it started from. */
export interface SnapshotCost {
  rssBeforeBytes: number | null
  /** VmHWM after the snapshot; null where /proc/self/status is not available. */
  peakRssBytes: number | null
  extraRssBytes: number | null
  /** `extraRssBytes / heapUsedBytes`: for the reader; the guard learns from `extraRssBytes` next to the heap's composition. */
  costFactor: number | null
  /** True when the peak could not be reset: it is then the process's lifetime peak, an upper bound. */
  peakRssIsUpperBound: boolean
}

export interface WrittenSnapshot extends SnapshotCost {
  id: string
  filePath: string
  bytes: number
  durationMs: number
  heapUsedBytes: number
  /** The heap's split when it was taken: what a learned estimate scales from. */
  largeObjectBytes: number
  otherHeapBytes: number
  createdAt: string
  /** What the `beforeWrite` hook returned (the per-route request counts), when it returned an object. */
  requests?: Record<string, unknown>
  /** When `snapshot.redact` is on: what was replaced. */
  redaction?: RedactionReport
}

/** How the raw snapshot reached the redactor: `pipe` (it never touched a disk) or `file` (briefly: no `mkfifo`). */
export const REDACTION_PATHS = ['pipe', 'file'] as const

/** `redaction` in the `201` of a redacted snapshot. */
export interface RedactionReport {
  /** Entries of the snapshot's string table. */
  strings: number
  /** Entries replaced by `<redacted N chars>`: string values, and script sources. */
  redactedStrings: number
  /** String values kept: empty, shorter than `keepShorterThan`, or the plugin's request-count marks. */
  keptValues: number
  via: typeof REDACTION_PATHS[number]
}

/** The `snapshot` section of `GET /memory`: would one be allowed now, why, and what the last one cost and left. */
export interface SnapshotStatus extends HeadroomVerdict {
  inProgress: boolean
  last: WrittenSnapshot | null
  retained: RetainedMemory
}

/** The body of `GET /memory`. */
/** `heapProfile` in `GET /memory`: the sampling heap profiler's state. */
export interface HeapProfileStatus {
  /** False in a Node built without the inspector. */
  available: boolean
  running: boolean
  /** The running sampling's settings, null when stopped. */
  intervalBytes: number | null
  stackDepth: number | null
  /** When the running sampling started (ISO 8601): a profile covers the time since. */
  since: string | null
  /** When this plugin found its sampling stopped by another user of the profiler, if it did. */
  stoppedByOtherAt: string | null
  /**
   * What the profiler held at the last read of its profile (V8 tells nothing without one, and a
   * read forces a full GC): null before the first read of the running sampling.
   */
  memory: ProfilerMemory | null
}

/**
 * The sampling heap profiler's own native memory. It is bounded by the live heap: a sample is
 * kept only while its object lives, and about one object per `intervalBytes` allocated is
 * sampled, so the samples held stay near live bytes sampled since the start ÷ `intervalBytes`
 * (a 1 GB heap at 512 KiB: ~2,000 samples, under 1 MB).
 */
export interface ProfilerMemory {
  /** Live samples (objects sampled and still alive). */
  samples: number
  /** Nodes of the allocation-stack tree (a node per distinct frame path with live samples under it). */
  nodes: number
  /** An estimate from per-sample and per-node costs measured once (280 B each, the high end): V8 exposes no figure. */
  estimatedBytes: number
  /** When the profile these figures come from was read (ISO 8601). */
  readAt: string
}

export interface MemoryReport extends MemoryReading {
  snapshot: SnapshotStatus
  heapProfile: HeapProfileStatus
  trend: TrendReport
}

/** A capture uploaded to the object store (`upload` in the `201` and the job status). */
export interface UploadedObject {
  bucket: string
  key: string
  /** Bytes stored: the gzip'ed size. */
  bytes: number
  /** The store's ETag, when it sent one. */
  etag?: string
  /** A presigned GET URL, with `upload.presign`. */
  url?: string
  urlExpiresAt?: string
  /** Whole uploads tried (1 when the first succeeded). */
  attempts: number
  durationMs: number
}

/** An upload that failed for good (after its retries): the local file is kept. */
export interface FailedUpload {
  bucket: string
  key: string
  attempts: number
  error: { code: string, message: string }
}

export type UploadReport = UploadedObject | FailedUpload

/** What a snapshot job is doing: `writing`, `uploading` (the file complete), `sending`, or over: `done`, `failed`. */
export const SNAPSHOT_JOB_STATES = ['writing', 'sending', 'uploading', 'done', 'failed'] as const
export type SnapshotJobState = typeof SNAPSHOT_JOB_STATES[number]

/** `GET /heap-snapshot/:id/status`: a recent snapshot job, its file and its upload. */
export interface SnapshotJobStatus {
  id: string
  status: SnapshotJobState
  /** Once written. */
  snapshot?: WrittenSnapshot
  /** Once the upload is over (or failed), with `upload` configured. */
  upload?: UploadReport
  /** When the job failed before its file was written. */
  error?: { code: string, message: string }
  /** Whether the local file is still there. */
  localFile: boolean
}
