// runs.list's first pages (no cursor), kept in the API's memory while nothing in their project's
// runs has changed. The pages people, dashboards and CI scripts keep asking for are the newest
// runs of a project, by each filter; building one (reading some fifty rows of forty columns and
// turning them into DTOs) costs the API and Postgres several milliseconds of CPU, which 20
// concurrent callers on a small machine turn straight into latency (issue 17's list benchmark).
//
// Whether a page is still true is the database's to say, not a timer's: every change to a
// project's runs moves that project's counter in run_list_versions in the same transaction
// (triggers, prisma/migrations/20270201120000_run_list_versions). A call reads the counter (one
// primary-key lookup) and serves the kept page only if it was built under the same counter; the
// counter is read before the page is built, so a page is never kept under a counter older than
// what it shows. Every API instance has its own pages and reads the same counters: no instance
// can serve a page another one's write has made stale.
//
// Cursor pages and pages of more than KEPT_LIMIT runs are not kept: they walk or export a long
// history, reading each page once, and would only push out the pages that are asked for again
// (a page of 200 costs four times the memory of the default 50, and keeping them churned the
// API's heap enough to show in its resident memory: issue 17's memory benchmark). Who may see a
// page is checked before (the project comes from the caller's access), and runner presence
// (waitingForRunner) is added by the caller on every call.
import { LRUCache } from 'lru-cache'
import { pgQuery, TEXT_VALUES, type Db } from '@stampede/db'
import type { RunDto } from './dto.ts'
import { listRowToDto, listRuns, type RunListFilter } from './list.ts'

/** A page: its runs (waitingForRunner false) and whether more follow. */
export interface RunListPage {
  items: RunDto[]
  more: boolean
}

interface Kept extends RunListPage {
  /** The project's run_list_versions counter the page was built under. */
  version: string
}

export class RunListCache {
  private readonly pages: LRUCache<string, Kept> | undefined
  /** Kept pages served and kept pages built, since the start (for tests). */
  readonly counts = { hits: 0, misses: 0 }

  /** `maxBytes` bounds the kept pages (ROW_BYTES a run); 0 keeps none. */
  constructor(maxBytes: number) {
    if (maxBytes > 0) this.pages = new LRUCache<string, Kept>({ maxSize: maxBytes, sizeCalculation: (page) => page.items.length * ROW_BYTES + 256 })
  }

  /** The first `limit` runs of the filter, newest first (listRuns's answer as DTOs), and whether more follow. */
  async page(db: Db, filter: Omit<RunListFilter, 'take'>, limit: number): Promise<RunListPage> {
    const read = async () => {
      const rows = await listRuns(db, { ...filter, take: limit + 1 })
      return { items: (rows.length > limit ? rows.slice(0, limit) : rows).map((r) => listRowToDto(r)), more: rows.length > limit }
    }
    if (!this.pages || filter.cursor !== undefined || limit > KEPT_LIMIT) return read()
    const key = `${filter.projectId}|${filter.status ?? ''}|${filter.location ?? ''}|${filter.testId ?? ''}|${limit}`
    const version = await projectVersion(db, filter.projectId)
    const kept = this.pages.get(key)
    if (kept?.version === version) {
      this.counts.hits++
      return { items: kept.items, more: kept.more }
    }
    this.counts.misses++
    const page = await read()
    this.pages.set(key, { ...page, version })
    return page
  }
}

/** The largest page kept (runs.list's default is 50). */
export const KEPT_LIMIT = 100

/**
 * What a kept run costs the heap, about: a RunDto with its nested objects and strings is about
 * 1.6 KB (thresholds and artifacts are shared with list.ts's memoised parses).
 */
const ROW_BYTES = 2048

/** The project's counter of changes to its runs, as text ('0' before its first run). */
async function projectVersion(db: Db, projectId: string): Promise<string> {
  const { rows } = await pgQuery<{ version: string }>(db, { text: 'SELECT version FROM run_list_versions WHERE project_id = $1::uuid', values: [projectId], types: TEXT_VALUES })
  return rows[0]?.version ?? '0'
}
