import t from 'tap'
import { checkLeakKind, KINDS } from '../helpers/leak-corpus.js'

// The corpus with snapshot.redact on: string values replaced, the finder still names the
// culprit, its collection and its objects per request (the request-count marks survive). Two
// kinds: a Map whose keys are strings (the values redacted, the keys' objects still counted) and
// closures, whose names are function names. See test/helpers/leak-corpus.ts.
for (const kind of KINDS.filter((k) => ['/render', '/audit'].includes(k.path))) {
  t.test(`redacted: ${kind.name} (${kind.path}): the first candidate, its collection, its objects per request`, (t) => checkLeakKind(t, kind, { redact: true }))
}
