import t from 'tap'
import { checkLeakKind, KINDS } from '../helpers/leak-corpus.js'

// The leaks held through closures: listeners, timers, hooks in an array. See test/helpers/leak-corpus.ts.
for (const kind of KINDS.filter((k) => ['/subscribe', '/heartbeat', '/audit'].includes(k.path))) {
  t.test(`${kind.name} (${kind.path}): the first candidate, its collection, its objects per request`, (t) => checkLeakKind(t, kind))
}
