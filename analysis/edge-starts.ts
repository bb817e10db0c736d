/** Where each node's edges start in the edge columns; one more entry for the end. */
export function edgeStarts (nodeEdgeCount: Uint32Array): Uint32Array {
  const starts = new Uint32Array(nodeEdgeCount.length + 1)
  for (let i = 0; i < nodeEdgeCount.length; i++) starts[i + 1] = (starts[i] as number) + (nodeEdgeCount[i] as number)
  return starts
}
