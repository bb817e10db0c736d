import { bytes } from '../format.js'
import type { AppCallSite, GrowingSite, GrowingSitesReport, SiteFrame } from './find-growing-sites.js'

const STACK_FRAMES = 8

/** The comparison of heap profiles as text: the profiles, then each site with its stack and route. */
export function formatGrowingSites (report: GrowingSitesReport): string {
  const lines = report.profiles.map((p, i) =>
    `Profile ${i + 1}: ${p.samples} samples, ${bytes(p.liveBytes)} live${p.pid === undefined ? '' : `, pid ${p.pid}, taken ${p.takenAt}`}  ${p.file}`)
  const one = report.profiles.length === 1
  lines.push('')
  if (report.sites.length === 0) {
    lines.push(one ? 'No live sample in this profile.' : 'No allocation site grew in every interval.')
  } else {
    lines.push(one
      ? 'Live bytes by allocation site (the function that allocated, where it starts), most first:'
      : `Allocation sites whose live bytes grew in every interval (${report.growingCount}), most growth first; a site is the function that allocated, where it starts:`)
    report.sites.forEach((site, i) => lines.push('', ...siteLines(site, i + 1, one)))
  }
  if (report.appCalls.length > 0) {
    lines.push('', one
      ? 'Live bytes by the app\'s own call that led to them (its innermost frame outside node_modules, and what it called), most first:'
      : 'The same growth by the app\'s own call that led to it (its innermost frame outside node_modules, and what it called), most growth first:')
    report.appCalls.forEach((call, i) => lines.push('', ...appCallLines(call, i + 1, one)))
  }
  if (report.notes.length > 0) lines.push('', 'Notes:', ...report.notes.map((note) => `- ${note}`))
  return lines.join('\n') + '\n'
}

function appCallLines (call: AppCallSite, rank: number, one: boolean): string[] {
  return [
    `${rank}. ${where(call.frame)}${call.callee === null ? '' : ` → ${where(call.callee)}`}`,
    one ? `   live: ${bytes(call.growthBytes)}` : `   live: ${call.bytes.map((b) => bytes(b)).join(' → ')} (+${bytes(call.growthBytes)})`,
    ...routeLines(call.route)
  ]
}

function routeLines (route: GrowingSite['route']): string[] {
  if (route === null) return []
  const perRequest = route.bytesPerRequest === null ? '' : `, ${bytes(route.bytesPerRequest)} per request`
  return [`   route: ${route.route} (its handler is on the stack; ${route.requests} requests${perRequest})`]
}

function siteLines (site: GrowingSite, rank: number, one: boolean): string[] {
  const lines = [
    `${rank}. ${where(site)}`,
    one ? `   live: ${bytes(site.growthBytes)}` : `   live: ${site.bytes.map((b) => bytes(b)).join(' → ')} (+${bytes(site.growthBytes)})`
  ]
  lines.push(...routeLines(site.route))
  lines.push('   stack:', ...site.stack.slice(0, STACK_FRAMES).map((frame) => `     at ${where(frame)}`))
  if (site.stack.length > STACK_FRAMES) lines.push(`     … ${site.stack.length - STACK_FRAMES} more`)
  return lines
}

function where (frame: SiteFrame): string {
  // V8's own frames (a microtask run, a builtin) have no script
  if (frame.url === '') return `${frame.functionName} (V8)`
  const { source } = frame
  return source === undefined
    ? `${frame.functionName} (${frame.url}:${frame.line}:${frame.column})`
    : `${frame.functionName} (${source.url}:${source.line}:${source.column}; runs as ${frame.url}:${frame.line}:${frame.column})`
}
