// Keyset paging for the lists ordered by (a time column desc, id desc): the page after a cursor
// row is a range that the list's (…, time, id) index starts at. Prisma's own `cursor` option
// compares with subqueries Postgres cannot use as an index bound, so it scans from the newest
// row down to the cursor.

/** The rows after the cursor row (`at` its time, `id` its id) in (field desc, id desc) order, as a where fragment. */
export function keysetAfter<F extends string>(field: F, cursor: { at: Date; id: string }) {
  // `time <= at` bounds the index scan; the OR leaves out the cursor row and those before it with the same time.
  return { [field]: { lte: cursor.at }, OR: [{ [field]: { lt: cursor.at } }, { id: { lt: cursor.id } }] } as { [K in F]: { lte: Date } } & {
    OR: ({ [K in F]: { lt: Date } } | { id: { lt: string } })[]
  }
}
