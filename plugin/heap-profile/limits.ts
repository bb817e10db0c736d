const KIB = 1024

/**
 * What the sampling settings may be, for the option gate and the query of `POST /heap-profile`
 * alike. Below 1 KiB nearly every allocation is sampled (the profiler's memory and CPU grow with
 * it); V8's inspector records at most 128 frames per stack.
 */
export const HEAP_PROFILE_LIMITS = {
  intervalBytes: { min: KIB, max: KIB * KIB * KIB },
  stackDepth: { min: 1, max: 128 }
} as const
