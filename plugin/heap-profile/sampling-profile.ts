// The shapes of V8's sampling heap profile as the inspector answers `HeapProfiler.getSamplingProfile`
// (and as Chrome DevTools and speedscope load a `.heapprofile` file). Types only.

export interface CallFrame {
  functionName: string
  scriptId: string
  url: string
  /** 0-based, of the function's start (the profile knows functions, not the allocating line). */
  lineNumber: number
  /** 0-based. */
  columnNumber: number
}

export interface SamplingNode {
  callFrame: CallFrame
  /** Estimated live bytes allocated by this frame itself (V8 scales each sample to the bytes it stands for). */
  selfSize: number
  id: number
  children: SamplingNode[]
}

export interface SamplingSample {
  /** The sampled object's size in bytes. */
  size: number
  nodeId: number
  ordinal: number
}

export interface SamplingProfile {
  head: SamplingNode
  samples: SamplingSample[]
}
