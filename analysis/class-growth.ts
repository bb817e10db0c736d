import type { EarlierSnapshot } from './object-births.js'

// A class leaks when most of its new objects still alive are growth: at least this share of them
// is added to the class's count from the first snapshot to the last. A cache or a pool already
// full when the first snapshot is taken makes new objects that replace old ones: its count stays.
const GROWTH_SHARE = 0.5

/** How much each class (by label, see `labelCounts`) grew from the first snapshot to the last. */
export class ClassGrowth {
  readonly #first: ReadonlyMap<string, number>
  readonly #last: ReadonlyMap<string, number>

  constructor (first: EarlierSnapshot, last: ReadonlyMap<string, number>) {
    this.#first = first.labelCounts
    this.#last = last
  }

  /** Objects of the label in the last snapshot less those in the first. */
  growth (label: string): number {
    return (this.#last.get(label) ?? 0) - (this.#first.get(label) ?? 0)
  }

  /** Whether the class grew by at least GROWTH_SHARE of `alive`, the new objects of it still alive. */
  readonly grew = (label: string, alive: number): boolean => this.growth(label) >= GROWTH_SHARE * alive
}
