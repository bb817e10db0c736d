import type { FastifyInstance } from 'fastify'
import { incidentArchive } from '../incident/bundle.js'
import { collectIncident } from '../incident/collect.js'
import type { IncidentSources } from '../incident/collect.js'
import { routeOptions } from '../route-options.js'
import type { RouteAccess } from '../route-access.js'
import type { RouteRateLimit } from '../types/options.js'

export interface IncidentRouteOptions {
  sources: IncidentSources
  access: RouteAccess
  /** `rateLimit.snapshotFiles`: the bundle may carry the snapshot files. */
  rateLimit: RouteRateLimit | false
}

/** `GET /incident[?files=true]`: the postmortem bundle, a .tar.gz with summary.md at its root. */
export function incidentRoute (instance: FastifyInstance, { sources, access, rateLimit }: IncidentRouteOptions): void {
  instance.get<{ Querystring: { files?: boolean } }>('/incident', routeOptions(access.onRequest(rateLimit), {
    query: { files: { type: 'boolean', default: false } },
    response: { 200: { type: 'string', description: 'a .tar.gz: summary.md, JSON documents, files/' } }
  }), async (request, reply) => {
    const incident = collectIncident(sources, { files: request.query.files === true })
    const name = `incident-${process.pid}-${new Date().toISOString().replace(/[:.]/g, '')}.tar.gz`
    return reply
      .type('application/gzip')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(incidentArchive(incident.summary, incident.documents, incident.files))
  })
}
