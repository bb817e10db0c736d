// A TCP proxy between the SDK and the S3 server, on real sockets, that fails the way networks do:
// it cuts a connection once it has carried a number of bytes towards the server (the network
// cut mid-upload), or stops forwarding them (a store that hangs), or holds each chunk back (a
// slow store). Small requests (list, abort) pass: only connections that carry a part are hit.
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import type { Socket } from 'node:net'
import type { Teardown } from './build-app.js'

export type Fault =
  | { kind: 'none' }
  /** Destroy both sides once a connection has sent more than `bytes` to the server. */
  | { kind: 'cut', bytes: number }
  /** Forward `bytes` of each connection to the server, then nothing more (the sockets stay open). */
  | { kind: 'stall', bytes: number }
  /** Hold each chunk towards the server `ms` back. */
  | { kind: 'delay', ms: number }

export interface FaultProxy {
  endpoint: string
  fault: Fault
  /** Connections cut or stalled so far. */
  readonly hits: number
  /** Connections seen so far. */
  readonly connections: number
  close (): Promise<void>
}

export async function startFaultProxy (t: Teardown, upstreamPort: number, fault: Fault = { kind: 'none' }): Promise<FaultProxy> {
  const sockets = new Set<Socket>()
  let hits = 0
  let connections = 0
  const proxy: FaultProxy = {
    endpoint: '',
    fault,
    get hits () { return hits },
    get connections () { return connections },
    async close () {
      for (const socket of sockets) socket.destroy()
      server.close()
      if (server.listening) await once(server, 'close')
    }
  }

  const server = createServer((client) => {
    connections++
    const upstream = connect(upstreamPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    const forget = () => { sockets.delete(client); sockets.delete(upstream) }
    client.on('close', () => { upstream.destroy(); forget() })
    upstream.on('close', () => { client.destroy(); forget() })
    client.on('error', () => {})
    upstream.on('error', () => {})
    upstream.pipe(client)
    client.on('end', () => upstream.end())
    let sent = 0
    let hit = false
    client.on('data', (chunk: Buffer) => {
      const current = proxy.fault
      if (current.kind === 'cut' || current.kind === 'stall') {
        if (hit) return
        const room = current.bytes - sent
        if (chunk.length > room) {
          hit = true
          hits++
          if (room > 0) upstream.write(chunk.subarray(0, room))
          if (current.kind === 'cut') {
            client.destroy()
            upstream.destroy()
          }
          return
        }
        sent += chunk.length
        upstream.write(chunk)
      } else if (current.kind === 'delay') {
        client.pause()
        setTimeout(() => {
          upstream.write(chunk)
          client.resume()
        }, current.ms)
      } else {
        upstream.write(chunk)
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  proxy.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  t.teardown(() => proxy.close())
  return proxy
}
