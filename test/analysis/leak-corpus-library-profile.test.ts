import t from 'tap'
import { checkLeakKind, LIBRARY_KIND } from '../helpers/leak-corpus.js'

// A leak inside an npm library, in the corpus's app under the same load: the snapshots' finder
// and the heap profiles of the same run. See test/helpers/leak-corpus.ts.
t.test(`${LIBRARY_KIND.name} (${LIBRARY_KIND.path}): the first candidate, and the profiles' first growing site`, (t) => checkLeakKind(t, LIBRARY_KIND))
