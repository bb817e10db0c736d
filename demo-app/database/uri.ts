// Characters MongoDB refuses in a database name (https://www.mongodb.com/docs/manual/reference/limits/#naming-restrictions).
const INVALID_DB_NAME = /[/\\. "$*<>:|?\0]/

//                 scheme                   authority      path       query       fragment
const URI = /^(mongodb(?:\+srv)?:\/\/)([^/?#]+)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/i

/**
 * `baseUri` with its database set to `dbName`, e.g. uriFor('mongodb://127.0.0.1:27017', 'acme')
 * → 'mongodb://127.0.0.1:27017/acme'. A database already in the base URI is replaced and the
 * query string is kept. When the base URI has credentials and a database but no authSource, that
 * database was the authentication database: it is kept as `authSource` so that login still works.
 */
export function uriFor (baseUri: string, dbName: string): string {
  if (dbName.length === 0 || dbName.length >= 64 || INVALID_DB_NAME.test(dbName)) {
    throw new TypeError(`invalid database name: ${JSON.stringify(dbName)}`)
  }
  const match = URI.exec(baseUri.trim())
  if (match === null) throw new TypeError(`not a mongodb:// or mongodb+srv:// connection string: ${redact(baseUri)}`)
  const [, scheme, authority, path = '', query = ''] = match as unknown as [string, string, string, string | undefined, string | undefined]
  const params = query.replace(/^\?/, '').split('&').filter(part => part.length > 0)
  const baseDb = decodeURIComponent(path.replace(/^\//, ''))
  if (baseDb.length > 0 && authority.includes('@') && !params.some(part => /^authSource=/i.test(part))) {
    params.push(`authSource=${encodeURIComponent(baseDb)}`)
  }
  return `${scheme}${authority}/${encodeURIComponent(dbName)}${params.length > 0 ? `?${params.join('&')}` : ''}`
}

/** The URI without its password, for logs. */
export function redact (uri: string): string {
  return uri.replace(/^([a-z+]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@')
}
