-- A counter per project that every change to its runs moves on: runs.list keeps a page in the
-- API's memory while its project's counter is unchanged (apps/api/src/runs/list-cache.ts), so
-- the pages people and dashboards keep asking for are served without reading the runs again.
-- The triggers bump it in the same transaction as the change, so a counter read after a commit
-- always differs from one read before it, whichever API instance reads it.
-- Statement-level triggers (transition tables): one bump per project per statement, whatever
-- the number of rows (a retention delete, a bulk insert). Projects are bumped in id order, so
-- two statements touching the same projects lock their counters in the same order. A project
-- being deleted (its runs go by cascade) is not given a counter again: the INSERT reads it from
-- projects, where it is gone by then.

-- CreateTable
CREATE TABLE "run_list_versions" (
    "project_id" UUID NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "run_list_versions_pkey" PRIMARY KEY ("project_id")
);

-- AddForeignKey
ALTER TABLE "run_list_versions" ADD CONSTRAINT "run_list_versions_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE FUNCTION "bump_run_list_versions"(ids uuid[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO "run_list_versions" AS v ("project_id", "version")
  SELECT p."id", 1 FROM "projects" p WHERE p."id" = ANY(ids) ORDER BY p."id"
  ON CONFLICT ("project_id") DO UPDATE SET "version" = v."version" + 1
$$;

CREATE FUNCTION "runs_bump_list_versions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- PL/pgSQL plans each statement when it first runs it, so each branch names only the
  -- transition tables its trigger has.
  IF TG_OP = 'INSERT' THEN
    PERFORM "bump_run_list_versions"(ARRAY(SELECT DISTINCT "project_id" FROM new_runs));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM "bump_run_list_versions"(ARRAY(SELECT "project_id" FROM new_runs UNION SELECT "project_id" FROM old_runs));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM "bump_run_list_versions"(ARRAY(SELECT DISTINCT "project_id" FROM old_runs));
  ELSE
    -- TRUNCATE: every project's runs may have gone.
    UPDATE "run_list_versions" SET "version" = "version" + 1;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "runs_list_version_insert" AFTER INSERT ON "runs" REFERENCING NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION "runs_bump_list_versions"();
CREATE TRIGGER "runs_list_version_update" AFTER UPDATE ON "runs" REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION "runs_bump_list_versions"();
CREATE TRIGGER "runs_list_version_delete" AFTER DELETE ON "runs" REFERENCING OLD TABLE AS old_runs
  FOR EACH STATEMENT EXECUTE FUNCTION "runs_bump_list_versions"();
CREATE TRIGGER "runs_list_version_truncate" AFTER TRUNCATE ON "runs"
  FOR EACH STATEMENT EXECUTE FUNCTION "runs_bump_list_versions"();

-- Projects that have runs already start with a counter.
INSERT INTO "run_list_versions" ("project_id", "version") SELECT DISTINCT "project_id", 1 FROM "runs";
