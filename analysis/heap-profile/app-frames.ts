import type { SiteFrame } from './live-sites.js'

/**
 * Whether a frame is the application's own code: a script outside `node_modules`, not one of
 * Node's (`node:`) and not V8's (no url). The first such frame on an allocation's stack is where
 * the app asked a library for what it keeps.
 */
export function isAppFrame ({ url }: SiteFrame): boolean {
  return url !== '' && !url.startsWith('node:') && !/[/\\]node_modules[/\\]/.test(url)
}

/** The innermost app frame of a stack (innermost first), and the frame it called toward the allocation (null when it allocated itself). */
export function appCall (frames: readonly SiteFrame[]): { frame: SiteFrame, callee: SiteFrame | null } | null {
  const index = frames.findIndex(isAppFrame)
  if (index === -1) return null
  return { frame: frames[index]!, callee: index === 0 ? null : frames[index - 1]! }
}
