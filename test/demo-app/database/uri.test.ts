import t from 'tap'
import { redact, uriFor } from '../../../demo-app/database/uri.js'

t.test('uriFor puts the database in the path', async t => {
  t.equal(uriFor('mongodb://127.0.0.1:27017', 'acme'), 'mongodb://127.0.0.1:27017/acme')
  t.equal(uriFor('mongodb://127.0.0.1:27017/', 'acme'), 'mongodb://127.0.0.1:27017/acme', 'trailing slash')
  t.equal(uriFor('mongodb://127.0.0.1:27017/other', 'acme'), 'mongodb://127.0.0.1:27017/acme', 'replaces a database')
  t.equal(uriFor('mongodb://127.0.0.1:27017?directConnection=true', 'acme'), 'mongodb://127.0.0.1:27017/acme?directConnection=true', 'query without a path')
  t.equal(uriFor('mongodb://127.0.0.1:27017/?retryWrites=false&w=1', 'acme'), 'mongodb://127.0.0.1:27017/acme?retryWrites=false&w=1', 'query after a slash')
  t.equal(uriFor('mongodb://127.0.0.1:27017/old?w=1#frag', 'acme'), 'mongodb://127.0.0.1:27017/acme?w=1', 'fragment dropped')
  t.equal(uriFor('mongodb://h1:27017,h2:27018,h3/?replicaSet=rs0', 'acme'), 'mongodb://h1:27017,h2:27018,h3/acme?replicaSet=rs0', 'several hosts')
  t.equal(uriFor('mongodb+srv://cluster0.example.net/?retryWrites=true', 'acme'), 'mongodb+srv://cluster0.example.net/acme?retryWrites=true')
  t.equal(uriFor('  mongodb://localhost  ', 'acme'), 'mongodb://localhost/acme', 'surrounding spaces')
  t.equal(uriFor('mongodb://localhost', 'ümlaut-tenant_1'), 'mongodb://localhost/%C3%BCmlaut-tenant_1', 'encoded')
  t.equal(uriFor('mongodb://localhost/?', 'acme'), 'mongodb://localhost/acme', 'empty query')
})

t.test('uriFor keeps the authentication database of a base URI with credentials', async t => {
  t.equal(uriFor('mongodb://u:p@host/admin', 'acme'), 'mongodb://u:p@host/acme?authSource=admin')
  t.equal(uriFor('mongodb://u:p@host/admin?tls=true', 'acme'), 'mongodb://u:p@host/acme?tls=true&authSource=admin')
  t.equal(uriFor('mongodb://u:p@host/admin?authSource=users', 'acme'), 'mongodb://u:p@host/acme?authSource=users', 'an explicit authSource wins')
  t.equal(uriFor('mongodb://u:p@host', 'acme'), 'mongodb://u:p@host/acme', 'no database, no authSource')
  t.equal(uriFor('mongodb://host/admin', 'acme'), 'mongodb://host/acme', 'no credentials, no authSource')
})

t.test('uriFor refuses invalid database names and non-MongoDB URIs', async t => {
  for (const name of ['', 'a/b', 'a.b', 'a b', 'a$b', 'a"b', 'a\\b', 'x'.repeat(64), 'a\0b']) {
    t.throws(() => uriFor('mongodb://localhost', name), TypeError, JSON.stringify(name))
  }
  t.throws(() => uriFor('http://localhost', 'acme'), /not a mongodb:\/\/ or mongodb\+srv:\/\/ connection string/)
  t.throws(() => uriFor('mongodb://', 'acme'), TypeError)
  t.throws(() => uriFor('postgres://u:secret@h/x', 'acme'), { message: 'not a mongodb:// or mongodb+srv:// connection string: postgres://u:***@h/x' }, 'the password is not in the error')
})

t.test('redact hides passwords only', async t => {
  t.equal(redact('mongodb://u:p@h/db'), 'mongodb://u:***@h/db')
  t.equal(redact('mongodb+srv://user:pa%40ss@cluster/'), 'mongodb+srv://user:***@cluster/')
  t.equal(redact('mongodb://h:27017/db'), 'mongodb://h:27017/db')
  t.equal(redact('mongodb://onlyuser@h/db'), 'mongodb://onlyuser@h/db')
})
