import type { CallFrame, SamplingNode, SamplingProfile } from './sampling-profile.js'

/**
 * The profile with every stack cut to its `depth` innermost frames (where the allocation
 * happened, as V8 itself cuts them), the nodes that then share a stack merged and the samples
 * pointed at the merged nodes. The profile as it is when no stack is deeper.
 */
export function cutStacks (profile: SamplingProfile, depth: number): SamplingProfile {
  const head = profile.head
  const cut: SamplingNode = { callFrame: head.callFrame, selfSize: head.selfSize, id: head.id, children: [] }
  const childIndex = new Map<SamplingNode, Map<string, SamplingNode>>()
  const renamed = new Map<number, number>()
  let deeper = false

  function place (frames: SamplingNode[]): SamplingNode {
    let parent = cut
    for (const frame of frames) {
      let index = childIndex.get(parent)
      if (index === undefined) {
        index = new Map()
        childIndex.set(parent, index)
      }
      const key = frameKey(frame.callFrame)
      let child = index.get(key)
      if (child === undefined) {
        child = { callFrame: frame.callFrame, selfSize: 0, id: frame.id, children: [] }
        index.set(key, child)
        parent.children.push(child)
      }
      parent = child
    }
    return parent
  }

  // iterative: stacks are up to 128 frames, trees can be wide
  const pending: Array<{ node: SamplingNode, path: SamplingNode[] }> = head.children.map((node) => ({ node, path: [node] }))
  while (pending.length > 0) {
    const { node, path } = pending.pop()!
    if (path.length > depth) deeper = true
    const target = place(path.length > depth ? path.slice(-depth) : path)
    target.selfSize += node.selfSize
    renamed.set(node.id, target.id)
    for (const child of node.children) pending.push({ node: child, path: [...path, child] })
  }
  if (!deeper) return profile
  return {
    head: cut,
    samples: profile.samples.map((sample) => ({ ...sample, nodeId: renamed.get(sample.nodeId) ?? sample.nodeId }))
  }
}

function frameKey ({ functionName, scriptId, lineNumber, columnNumber }: CallFrame): string {
  return `${functionName}\u0000${scriptId}\u0000${lineNumber}\u0000${columnNumber}`
}
