-- Recurring load jobs mirrored as Temporal Schedules, their firings and webhook deliveries.

-- CreateEnum
CREATE TYPE "overlap_policy" AS ENUM ('skip', 'buffer_one', 'cancel_other');

-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "firing_id" UUID;

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "location_id" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "overlap_policy" "overlap_policy" NOT NULL DEFAULT 'skip',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "max_firings" INTEGER,
    "end_at" TIMESTAMP(3),
    "webhook_url" TEXT,
    "notify_on" TEXT NOT NULL DEFAULT 'failure',
    "webhook_secret" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_tests" (
    "job_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "test_id" UUID NOT NULL,

    CONSTRAINT "job_tests_pkey" PRIMARY KEY ("job_id","position")
);

-- CreateTable
CREATE TABLE "job_firings" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "scheduled_at" TIMESTAMP(3) NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),
    "status" TEXT NOT NULL DEFAULT 'running',

    CONSTRAINT "job_firings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "firing_id" UUID,
    "event" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "url" TEXT NOT NULL,
    "status_code" INTEGER,
    "response" TEXT,
    "ok" BOOLEAN NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "runs_job_id_created_at_idx" ON "runs"("job_id", "created_at");

-- CreateIndex
CREATE INDEX "runs_firing_id_idx" ON "runs"("firing_id");

-- CreateIndex
CREATE INDEX "jobs_project_id_name_idx" ON "jobs"("project_id", "name");

-- CreateIndex
CREATE INDEX "job_tests_test_id_idx" ON "job_tests"("test_id");

-- CreateIndex
CREATE UNIQUE INDEX "job_firings_workflow_id_key" ON "job_firings"("workflow_id");

-- CreateIndex
CREATE INDEX "job_firings_job_id_scheduled_at_idx" ON "job_firings"("job_id", "scheduled_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_job_id_at_idx" ON "webhook_deliveries"("job_id", "at");

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_firing_id_fkey" FOREIGN KEY ("firing_id") REFERENCES "job_firings"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_tests" ADD CONSTRAINT "job_tests_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_tests" ADD CONSTRAINT "job_tests_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_firings" ADD CONSTRAINT "job_firings_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_firing_id_fkey" FOREIGN KEY ("firing_id") REFERENCES "job_firings"("id") ON DELETE SET NULL ON UPDATE CASCADE;
