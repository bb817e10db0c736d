// The API report: the exact runtime exports of `.`, `./analysis` and `./testing`, the error codes, and the
// shape of the key report and option types. Adding, renaming or removing any of them fails
// here, so that the public surface changes only on purpose (and the change shows in this file).
import { describe, expect, test } from 'tstyche'
import type * as Plugin from '../../plugin/index.js'
import type * as Analysis from '../../analysis/index.js'
import type {
  AuthOptions, AuthStrategy, CaptureOptions, ContainerMemory, ErrorBody, EstimateBasis, GcKind, GcOptions, GcPeriod, GcStats,
  HeadroomSource, HeadroomVerdict, HeapProfileOptions, HeapProfileStatus, ProfilerMemory, HeapTrend, MemoryDiagnosticsOptions, MemoryLimit, MemoryReading, MemoryReport,
  MetricsOptions, MetricsRegistry, OutsideHeap, PauseStats, RateLimitOptions, RedactOptions, RedactionReport, RetainedMemory, Allocator, RouteRateLimit,
  SeriesTrend, SnapshotCost, SnapshotEstimate, SnapshotOptions, SnapshotStatus, SystemMemory, TimeToLimit,
  TrendOptions, TrendReport, TrendThresholds, TrendVerdict, WrittenSnapshot, UploadOptions, UploadReport, UploadedObject, FailedUpload
} from '../../plugin/index.js'
import type {
  CollectionKind, DiffHeapSnapshotsOptions, DiffProgress, FindLeaksOptions, FindLeaksProgress, FormatHeapDiffOptions,
  HeapDiff, HeapDiffRow, HeapDiffSortKey, HeapDiffTotals, HeapSnapshot, LeakCandidate, LeakCollection, LeakReport,
  LeakSnapshotSummary, LeakStep, ParseHeapSnapshotOptions, ReadProgress, RequestCounts, RetainerPath, RetainerStep,
  RouteShare, SnapshotSummary, AppCallSite, FindGrowingSitesOptions, GrowingSite, GrowingSitesReport, HeapProfileSummary, SiteFrame, SiteRoute
} from '../../analysis/index.js'
import type * as Testing from '../../testing/index.js'
import type { LeakGateOptions, LeakGateResult, LeakGateTarget } from '../../testing/index.js'

describe('"."', () => {
  test('runtime exports', () => {
    expect<keyof typeof Plugin>().type.toBe<'default' | 'memoryDiagnostics' | 'errorCodes'>()
  })

  test('error codes, each a class with its code and status', () => {
    expect<keyof typeof Plugin.errorCodes>().type.toBe<
      | 'FST_MEMDIAG_MISSING_CREDENTIALS'
      | 'FST_MEMDIAG_INVALID_CREDENTIALS'
      | 'FST_MEMDIAG_RATE_LIMITED'
      | 'FST_MEMDIAG_INVALID_OPTION'
      | 'FST_MEMDIAG_INVALID_REQUEST'
      | 'FST_MEMDIAG_FORBIDDEN'
      | 'FST_MEMDIAG_INTERNAL_ERROR'
      | 'FST_MEMDIAG_SNAPSHOT_IN_PROGRESS'
      | 'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN'
      | 'FST_MEMDIAG_INSUFFICIENT_HEADROOM'
      | 'FST_MEMDIAG_SNAPSHOT_FAILED'
      | 'FST_MEMDIAG_SNAPSHOT_NOT_FOUND'
      | 'FST_MEMDIAG_UNSAFE_SNAPSHOT_DIR'
      | 'FST_MEMDIAG_ROUTE_NOT_FOUND'
      | 'FST_MEMDIAG_METHOD_NOT_ALLOWED'
      | 'FST_MEMDIAG_UNSAFE_SNAPSHOT_FILE'
      | 'FST_MEMDIAG_HEAP_PROFILE_SETTINGS_CONFLICT'
      | 'FST_MEMDIAG_HEAP_PROFILER_BUSY'
      | 'FST_MEMDIAG_HEAP_PROFILE_NOT_RUNNING'
      | 'FST_MEMDIAG_HEAP_PROFILER_UNAVAILABLE'
      | 'FST_MEMDIAG_UPLOAD_FAILED'
    >()
    const { errorCodes } = {} as typeof Plugin
    const error: unknown = new Error('from a request')
    if (error instanceof errorCodes.FST_MEMDIAG_SNAPSHOT_COOLING_DOWN) {
      expect(error.code).type.toBe<'FST_MEMDIAG_SNAPSHOT_COOLING_DOWN'>()
      expect(error.statusCode).type.toBe<409>()
    }
    expect(new errorCodes.FST_MEMDIAG_INSUFFICIENT_HEADROOM('reason')).type.toBeAssignableTo<Error & { code: 'FST_MEMDIAG_INSUFFICIENT_HEADROOM', statusCode: 503 }>()
  })

  test('the answers: /memory, /gc-stats, the 201 of POST /heap-snapshot, errors', () => {
    expect<keyof MemoryReport>().type.toBe<keyof MemoryReading | 'snapshot' | 'heapProfile' | 'trend'>()
    expect<MemoryReport['heapProfile']>().type.toBe<HeapProfileStatus>()
    expect<keyof HeapProfileStatus>().type.toBe<'available' | 'running' | 'intervalBytes' | 'stackDepth' | 'since' | 'stoppedByOtherAt' | 'memory'>()
    expect<HeapProfileStatus['memory']>().type.toBe<ProfilerMemory | null>()
    expect<keyof ProfilerMemory>().type.toBe<'samples' | 'nodes' | 'estimatedBytes' | 'readAt'>()
    expect<MemoryReport['snapshot']>().type.toBe<SnapshotStatus>()
    expect<MemoryReport['trend']>().type.toBe<TrendReport>()
    expect<MemoryReading['container']>().type.toBe<ContainerMemory>()
    expect<MemoryReading['system']>().type.toBe<SystemMemory>()
    expect<MemoryReading['outsideHeap']>().type.toBe<OutsideHeap>()
    expect<OutsideHeap['unexplainedBytes']>().type.toBe<number>()
    expect<keyof SnapshotStatus>().type.toBe<keyof HeadroomVerdict | 'inProgress' | 'last' | 'retained'>()
    expect<SnapshotStatus['last']>().type.toBe<WrittenSnapshot | null>()
    expect<SnapshotStatus['retained']>().type.toBe<RetainedMemory>()
    expect<RetainedMemory['allocator']>().type.toBe<Allocator>()
    expect<HeadroomVerdict['source']>().type.toBe<HeadroomSource>()
    expect<HeadroomVerdict['basis']>().type.toBe<EstimateBasis>()
    expect<HeadroomVerdict['estimate']>().type.toBe<SnapshotEstimate>()
    expect<keyof WrittenSnapshot>().type.toBe<
      keyof SnapshotCost | 'id' | 'filePath' | 'bytes' | 'durationMs' | 'heapUsedBytes' | 'largeObjectBytes' | 'otherHeapBytes' | 'createdAt' | 'requests' | 'redaction'
    >()
    expect<WrittenSnapshot['redaction']>().type.toBe<RedactionReport | undefined>()
    expect<keyof RedactionReport>().type.toBe<'strings' | 'redactedStrings' | 'keptValues' | 'via'>()
    expect<RedactionReport['via']>().type.toBe<'pipe' | 'file'>()
    expect<keyof GcStats>().type.toBe<'sinceStart' | 'window' | 'timestamp'>()
    expect<GcStats['window']>().type.toBe<GcPeriod & { windowMs: number }>()
    expect<GcPeriod['kinds']>().type.toBe<Record<GcKind, PauseStats>>()
    expect<GcKind>().type.toBe<'minor' | 'major' | 'incremental' | 'weakcb'>()
    expect<keyof ErrorBody>().type.toBe<string | number>()
    expect<Pick<ErrorBody, 'statusCode' | 'code' | 'error' | 'message'>>().type.toBe<{ statusCode: number, code: string, error: string, message: string }>()
  })

  test('the trend report', () => {
    expect<TrendVerdict>().type.toBe<'steady' | 'growing-heap' | 'growing-native' | 'insufficient-data'>()
    expect<keyof TrendReport>().type.toBe<'verdict' | 'since' | 'reason' | 'latest' | 'grewAt' | 'windowMs' | 'heap' | 'external' | 'rss' | 'outsideHeap' | 'timeToLimit'>()
    expect<TrendReport['verdict']>().type.toBe<TrendVerdict>()
    expect<TrendReport['heap']>().type.toBe<HeapTrend>()
    expect<TrendReport['rss']>().type.toBe<SeriesTrend>()
    expect<TrendReport['outsideHeap']>().type.toBe<SeriesTrend>()
    expect<TrendReport['timeToLimit']>().type.toBe<TimeToLimit | null>()
    expect<TimeToLimit['limit']>().type.toBe<MemoryLimit>()
    expect<MemoryLimit>().type.toBe<'heap' | 'container'>()
  })

  test('the options', () => {
    expect<keyof MemoryDiagnosticsOptions>().type.toBe<'auth' | 'rateLimit' | 'gc' | 'snapshot' | 'heapProfile' | 'trend' | 'capture' | 'metrics' | 'upload' | 'cgroup'>()
    expect<MemoryDiagnosticsOptions['upload']>().type.toBe<UploadOptions | undefined>()
    expect<UploadOptions['serverSideEncryption']>().type.toBe<'AES256' | 'aws:kms' | 'aws:kms:dsse' | undefined>()
    expect<UploadReport>().type.toBe<UploadedObject | FailedUpload>()
    expect<MemoryDiagnosticsOptions['capture']>().type.toBe<CaptureOptions | false | undefined>()
    expect<keyof CaptureOptions>().type.toBe<'onVerdict' | 'containerShare' | 'maxSnapshots' | 'spacingMs' | 'periodMs' | 'startAfterMs' | 'heapProfile'>()
    expect<MemoryDiagnosticsOptions['heapProfile']>().type.toBe<HeapProfileOptions | undefined>()
    expect<keyof HeapProfileOptions>().type.toBe<'continuous' | 'intervalBytes' | 'stackDepth'>()
    expect<RateLimitOptions['heapProfile']>().type.toBe<RouteRateLimit | false | undefined>()
    expect<MemoryDiagnosticsOptions['auth']>().type.toBe<AuthOptions | false>()
    expect<AuthOptions['strategies']>().type.toBe<AuthStrategy[] | undefined>()
    expect<MemoryDiagnosticsOptions['rateLimit']>().type.toBe<RateLimitOptions | false | undefined>()
    expect<RateLimitOptions['takeSnapshot']>().type.toBe<RouteRateLimit | false | undefined>()
    expect<MemoryDiagnosticsOptions['gc']>().type.toBe<GcOptions | undefined>()
    expect<MemoryDiagnosticsOptions['snapshot']>().type.toBe<SnapshotOptions | undefined>()
    expect<SnapshotOptions['redact']>().type.toBe<boolean | RedactOptions | undefined>()
    expect<keyof RedactOptions>().type.toBe<'keepShorterThan'>()
    expect<MemoryDiagnosticsOptions['trend']>().type.toBe<TrendOptions | undefined>()
    expect<keyof TrendOptions>().type.toBe<'intervalMs' | 'capacityMs' | 'thresholds'>()
    expect<TrendOptions['thresholds']>().type.toBe<TrendThresholds | undefined>()
    expect<MemoryDiagnosticsOptions['metrics']>().type.toBe<MetricsOptions | undefined>()
    expect<keyof MetricsOptions>().type.toBe<'registry' | 'route' | 'auth'>()
    expect<MetricsOptions['registry']>().type.toBe<MetricsRegistry>()
  })
})

describe('"./testing"', () => {
  test('runtime exports', () => {
    expect<keyof typeof Testing>().type.toBe<'assertNoLeaks' | 'measureLeaks' | 'LeakGateError'>()
  })

  test('the gate, its options and result', () => {
    expect<typeof Testing.assertNoLeaks>().type.toBe<(target: LeakGateTarget, options?: LeakGateOptions) => Promise<LeakGateResult>>()
    expect<keyof LeakGateOptions>().type.toBe<'calls' | 'warmUp' | 'threshold' | 'dir' | 'label'>()
    expect<Testing.LeakGateError['result']>().type.toBe<LeakGateResult>()
  })
})

describe('"./analysis"', () => {
  test('runtime exports', () => {
    expect<keyof typeof Analysis>().type.toBe<
      | 'diffHeapSnapshots' | 'findLeaks' | 'formatHeapDiff' | 'formatLeakReport' | 'parseHeapSnapshot' | 'readRequestCounts' | 'errorCodes'
      | 'findGrowingSites' | 'formatGrowingSites'
    >()
  })

  test('error codes', () => {
    expect<keyof typeof Analysis.errorCodes>().type.toBe<'FST_MEMDIAG_HEAP_SNAPSHOT_FORMAT' | 'FST_MEMDIAG_HEAP_PROFILE_FORMAT'>()
  })

  test('the functions, with their options and reports', () => {
    expect<typeof Analysis.diffHeapSnapshots>().type.toBe<(beforePath: string, afterPath: string, options?: DiffHeapSnapshotsOptions) => Promise<HeapDiff>>()
    expect<typeof Analysis.findLeaks>().type.toBe<(files: string[], options?: FindLeaksOptions) => Promise<LeakReport>>()
    expect<typeof Analysis.formatHeapDiff>().type.toBe<(diff: HeapDiff, options?: FormatHeapDiffOptions) => string>()
    expect<typeof Analysis.formatLeakReport>().type.toBe<(report: LeakReport) => string>()
    expect<typeof Analysis.parseHeapSnapshot>().type.toBe<(path: string, options?: ParseHeapSnapshotOptions) => Promise<HeapSnapshot>>()
    expect<typeof Analysis.findGrowingSites>().type.toBe<(files: readonly string[], options?: FindGrowingSitesOptions) => Promise<GrowingSitesReport>>()
    expect<typeof Analysis.formatGrowingSites>().type.toBe<(report: GrowingSitesReport) => string>()
    expect<typeof Analysis.readRequestCounts>().type.toBe<(snapshot: HeapSnapshot) => RequestCounts | undefined>()
  })

  test('the types the reports are made of', () => {
    expect<HeapDiff['rows']>().type.toBe<readonly HeapDiffRow[]>()
    expect<HeapDiff['totals']>().type.toBe<HeapDiffTotals>()
    expect<HeapDiffRow>().type.toBeAssignableTo<HeapDiffTotals>()
    expect<HeapDiff['before']>().type.toBe<SnapshotSummary>()
    expect<DiffHeapSnapshotsOptions['sortBy']>().type.toBe<HeapDiffSortKey | undefined>()
    expect<DiffProgress>().type.toBeAssignableTo<ReadProgress>()
    expect<FindLeaksProgress>().type.toBeAssignableTo<ReadProgress>()
    expect<LeakReport['candidates']>().type.toBe<LeakCandidate[]>()
    expect<LeakReport['snapshots']>().type.toBe<LeakSnapshotSummary[]>()
    expect<LeakCandidate['collection']>().type.toBe<LeakCollection>()
    expect<LeakCollection['kind']>().type.toBe<CollectionKind>()
    expect<LeakCandidate['retainerPath']>().type.toBe<LeakStep[]>()
    expect<LeakCandidate['perRoute']>().type.toBe<RouteShare[] | undefined>()
    expect<HeapDiff['retainerPaths']>().type.toBe<readonly RetainerPath[]>()
    expect<RetainerPath['steps']>().type.toBe<readonly RetainerStep[]>()
    expect<GrowingSitesReport['sites']>().type.toBe<readonly GrowingSite[]>()
    expect<GrowingSitesReport['profiles']>().type.toBe<readonly HeapProfileSummary[]>()
    expect<GrowingSite['route']>().type.toBe<SiteRoute | null>()
    expect<GrowingSite['stack']>().type.toBe<readonly SiteFrame[]>()
    expect<GrowingSite>().type.toBeAssignableTo<SiteFrame>()
    expect<GrowingSitesReport['appCalls']>().type.toBe<readonly AppCallSite[]>()
    expect<AppCallSite['callee']>().type.toBe<SiteFrame | null>()
    expect<keyof FindGrowingSitesOptions>().type.toBe<'top' | 'sourceMaps'>()
  })
})
