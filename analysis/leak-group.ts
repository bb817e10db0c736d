/** A group of leaking objects as the finder builds it: one candidate once named and ranked. */
export interface Group {
  /** The class that names the group: of a collection's entries, the class with the most bytes. */
  objectClass: string
  /** True when the objects are carriers: what they retain may be what a person calls the leak. */
  carrier: boolean
  shape: number
  /** The old collection whose entries the group is, NO_COLLECTION for a group by class and path shape. */
  readonly collection: number
  /** The objects of `objectClass` per interval. */
  counts: Float64Array
  /** All of the group's bytes per interval: every class, and what they drag. */
  readonly bytes: Float64Array
  liveCount: number
  retained: number
  /** The first object of `objectClass` reached breadth first: the shortest path. */
  sample: number
  /** Per class label, its objects in the group. */
  readonly classes: Map<string, ClassTally>
  /** For carriers: per named class (its name's string index), the top objects of it they dominate. */
  readonly retains: Map<number, Tally>
  /** Per class label: the leaking objects held only through the group's (see `leakRoots`). */
  readonly drags: Map<string, Tally>
}

export interface ClassTally {
  readonly counts: Float64Array
  readonly sample: number
  readonly carrier: boolean
  readonly dataKind: boolean
  count: number
  bytes: number
}

export interface Tally {
  count: number
  bytes: number
  /** The first object counted. */
  readonly sample?: number
}

export const NONE = 0xffffffff
