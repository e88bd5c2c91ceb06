-- Lists that stay fast with a long history: one index per list filter, ending in the list's
-- order (created_at, id), so every filter + ORDER BY created_at DESC, id DESC + LIMIT reads the
-- first rows of one index range backwards instead of sorting every matching row, and cursor
-- pages start at the cursor. runs.list by test uses (test_id, created_at, id): a test's runs all
-- belong to its project, and the same index serves each test's last run (tests.list).
-- The indexes they make redundant are dropped: (project_id, created_at) and
-- (project_id, status) are prefixes of the new ones; (status), (location_id, status) and
-- (created_at) serve no query (every list is per project).

-- DropIndex
DROP INDEX "runs_test_id_created_at_idx";

-- DropIndex
DROP INDEX "runs_status_idx";

-- DropIndex
DROP INDEX "runs_location_id_status_idx";

-- DropIndex
DROP INDEX "runs_created_at_idx";

-- DropIndex
DROP INDEX "runs_project_id_created_at_idx";

-- DropIndex
DROP INDEX "runs_project_id_status_idx";

-- DropIndex
DROP INDEX "audit_events_project_id_at_idx";

-- DropIndex
DROP INDEX "job_firings_job_id_scheduled_at_idx";

-- CreateIndex
CREATE INDEX "runs_test_id_created_at_id_idx" ON "runs"("test_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_project_id_created_at_id_idx" ON "runs"("project_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_project_id_status_created_at_id_idx" ON "runs"("project_id", "status", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_project_id_location_id_created_at_id_idx" ON "runs"("project_id", "location_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "audit_events_project_id_at_id_idx" ON "audit_events"("project_id", "at", "id");

-- CreateIndex
CREATE INDEX "job_firings_job_id_scheduled_at_id_idx" ON "job_firings"("job_id", "scheduled_at", "id");
