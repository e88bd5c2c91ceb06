// A long run history, written straight into the database in a few statements (generate_series,
// INSERT … SELECT): tests, then runs spread over a year, every status, the project's locations
// and the tests, with a k6 summary (the real v2.2.0 fixture, its figures varied per run) on
// finished runs. Used by the list benchmark (100,000 runs) and the soak test (a few thousand).
import { readFile } from 'node:fs/promises'
import pg from 'pg'

const SUMMARY_FIXTURE = new URL('../../../packages/shared/src/k6/fixtures/summary-thresholds-crossed.json', import.meta.url)

export interface SeedOptions {
  projectId: string
  /** How many runs to add. */
  runs: number
  /** How many tests the runs are spread over (about 1 run in 10 has none: a playground script). */
  tests?: number
  /** The location ids the runs are spread over (60 %, 25 %, 15 % … of them for three). */
  locations: string[]
}

export interface Seeded {
  testIds: string[]
  runs: number
  ms: number
}

/**
 * Adds `runs` runs (and `tests` tests) to the project, then vacuums and analyses the tables, as
 * the README's operations section says to after a bulk load: the planner knows their size, and
 * autovacuum has nothing left to do on them in the middle of a measurement. Statuses: about 70 % passed, 15 % failed, 8 % error, 4 % cancelled,
 * 2 % timed_out; the newest runs include queued and running ones.
 */
export async function seedRuns(databaseUrl: string, opts: SeedOptions): Promise<Seeded> {
  const started = Date.now()
  const summary = await readFile(SUMMARY_FIXTURE, 'utf8')
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const tests = await client.query<{ id: string }>(
      `INSERT INTO tests (id, project_id, name, description, script, type, created_at, updated_at)
       SELECT gen_random_uuid(), $1::uuid, 'seeded test ' || n, 'a seeded test', $2, 'load', now() - interval '400 days', now() - interval '400 days'
       FROM generate_series(1, $3::int) AS n
       RETURNING id::text AS id`,
      [opts.projectId, 'import http from "k6/http"\nexport const options = { vus: 10, duration: "30s" }\nexport default function () { http.get("https://example.test/") }\n', opts.tests ?? 50],
    )
    const testIds = tests.rows.map((r) => r.id)
    // One row per n; r1…r3 are independent uniform draws that pick the status, location and
    // test. created_at: one run every ~5 minutes back from now, newest first (n = 1).
    await client.query(
      `INSERT INTO runs (
         id, project_id, test_id, script, location_id, trigger, status, workflow_id, created_at, started_at, finished_at,
         duration_ms, timeout_seconds, exit_code, thresholds_passed, thresholds,
         http_reqs, http_req_failed_rate, http_req_rate, iterations, vus_max,
         http_req_duration_avg, http_req_duration_min, http_req_duration_med, http_req_duration_max,
         http_req_duration_p90, http_req_duration_p95, http_req_duration_p99,
         checks_passed, checks_failed, data_sent, data_received, artifacts, console_lines, error_message, summary)
       SELECT id, $1::uuid, test_id, $4, location_id, trigger, status, 'run-' || id, created_at,
         CASE WHEN status = 'queued' THEN NULL ELSE created_at + interval '1 second' END,
         CASE WHEN finished THEN created_at + interval '31 seconds' END,
         CASE WHEN finished THEN 30000 + (r1 * 2000)::int END,
         600,
         CASE status WHEN 'passed' THEN 0 WHEN 'failed' THEN 99 WHEN 'error' THEN 107 WHEN 'cancelled' THEN 105 WHEN 'timed_out' THEN 105 END,
         CASE WHEN finished AND status <> 'error' THEN status = 'passed' END,
         CASE WHEN finished AND status <> 'error' THEN jsonb_build_array(
           jsonb_build_object('metric', 'http_req_duration', 'expression', 'p(95)<500', 'ok', status = 'passed'),
           jsonb_build_object('metric', 'http_req_failed', 'expression', 'rate<0.01', 'ok', true)) END,
         CASE WHEN metrics THEN (r2 * 100000)::int END,
         CASE WHEN metrics THEN r3 / 50 END,
         CASE WHEN metrics THEN r2 * 3000 END,
         CASE WHEN metrics THEN (r2 * 100000)::int END,
         CASE WHEN metrics THEN 10 END,
         CASE WHEN metrics THEN 20 + r1 * 100 END, CASE WHEN metrics THEN 1 + r1 END, CASE WHEN metrics THEN 15 + r1 * 80 END,
         CASE WHEN metrics THEN 400 + r1 * 1000 END, CASE WHEN metrics THEN 60 + r1 * 200 END, CASE WHEN metrics THEN 80 + r1 * 300 END,
         CASE WHEN metrics THEN 150 + r1 * 500 END,
         CASE WHEN metrics THEN (r2 * 100000)::int END, CASE WHEN metrics THEN (r3 * 100)::int END,
         CASE WHEN metrics THEN (r2 * 10000000)::bigint END, CASE WHEN metrics THEN (r2 * 500000000)::bigint END,
         CASE WHEN finished THEN (
           SELECT jsonb_object_agg(name, jsonb_build_object('key', 'runs/' || id || '/' || file, 'bytes', (r1 * 100000)::int + 100, 'sha256', md5(id::text || name) || md5(name || id::text)))
           FROM (VALUES ('summary', 'summary.json'), ('report', 'report.html'), ('log', 'console.log'), ('metrics', 'metrics.json.gz')) AS a(name, file)) END,
         CASE WHEN finished THEN (r1 * 500)::int END,
         CASE status WHEN 'error' THEN 'k6 exited with code 107: script exception' WHEN 'failed' THEN 'thresholds crossed: http_req_duration ''p(95)<500''' END,
         CASE WHEN metrics THEN jsonb_set(jsonb_set(jsonb_set($5::jsonb,
           '{metrics,http_req_duration,avg}', to_jsonb(20 + r1 * 100)),
           '{metrics,http_req_duration,p(95)}', to_jsonb(80 + r1 * 300)),
           '{metrics,http_reqs,count}', to_jsonb((r2 * 100000)::int)) END
       FROM (
         SELECT *, status IN ('passed', 'failed', 'error', 'cancelled', 'timed_out') AS finished,
           status IN ('passed', 'failed', 'cancelled', 'timed_out') AS metrics
         FROM (
           SELECT gen_random_uuid() AS id, n, r1, r2, r3,
             now() - n * interval '5 minutes' + r1 * interval '2 minutes' AS created_at,
             CASE WHEN n <= 3 THEN 'queued'::run_status WHEN n <= 8 THEN 'running'::run_status
                  WHEN r1 < 0.70 THEN 'passed'::run_status WHEN r1 < 0.85 THEN 'failed'::run_status
                  WHEN r1 < 0.93 THEN 'error'::run_status WHEN r1 < 0.97 THEN 'cancelled'::run_status
                  ELSE 'timed_out'::run_status END AS status,
             ($2::text[])[(CASE WHEN r2 < 0.60 THEN 0 WHEN r2 < 0.85 THEN 1 ELSE 2 END) % cardinality($2::text[]) + 1] AS location_id,
             CASE WHEN r3 < 0.10 THEN NULL ELSE ($3::uuid[])[1 + floor(((r3 - 0.10) / 0.90) ^ 2 * cardinality($3::uuid[]))::int] END AS test_id,
             (CASE WHEN r2 < 0.2 THEN 'api' WHEN r2 < 0.3 THEN 'schedule' ELSE 'manual' END)::run_trigger AS trigger
           FROM (SELECT n, random() AS r1, random() AS r2, random() AS r3 FROM generate_series(1, $6::int) AS n) AS draws
         ) AS drawn
       ) AS runs`,
      [opts.projectId, opts.locations, testIds, 'import http from "k6/http"\nexport default function () { http.get("https://example.test/") }\n', summary, opts.runs],
    )
    await client.query('VACUUM (ANALYZE) tests')
    await client.query('VACUUM (ANALYZE) runs')
    return { testIds, runs: opts.runs, ms: Date.now() - started }
  } finally {
    await client.end()
  }
}
