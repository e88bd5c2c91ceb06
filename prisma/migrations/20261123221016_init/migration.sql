-- CreateEnum
CREATE TYPE "run_status" AS ENUM ('queued', 'running', 'passed', 'failed', 'error', 'cancelled', 'timed_out');

-- CreateEnum
CREATE TYPE "run_trigger" AS ENUM ('manual', 'api', 'schedule');

-- CreateTable
CREATE TABLE "locations" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "locations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tests" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "script" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'load',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "tests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runs" (
    "id" UUID NOT NULL,
    "test_id" UUID,
    "script" TEXT NOT NULL,
    "location_id" TEXT NOT NULL,
    "trigger" "run_trigger" NOT NULL,
    "job_id" TEXT,
    "status" "run_status" NOT NULL DEFAULT 'queued',
    "workflow_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),
    "duration_ms" INTEGER,
    "timeout_seconds" INTEGER NOT NULL,
    "exit_code" INTEGER,
    "thresholds_passed" BOOLEAN,
    "thresholds" JSONB,
    "http_reqs" INTEGER,
    "http_req_failed_rate" DOUBLE PRECISION,
    "http_req_rate" DOUBLE PRECISION,
    "iterations" INTEGER,
    "vus_max" INTEGER,
    "http_req_duration_avg" DOUBLE PRECISION,
    "http_req_duration_min" DOUBLE PRECISION,
    "http_req_duration_med" DOUBLE PRECISION,
    "http_req_duration_max" DOUBLE PRECISION,
    "http_req_duration_p90" DOUBLE PRECISION,
    "http_req_duration_p95" DOUBLE PRECISION,
    "http_req_duration_p99" DOUBLE PRECISION,
    "checks_passed" INTEGER,
    "checks_failed" INTEGER,
    "data_sent" BIGINT,
    "data_received" BIGINT,
    "artifacts" JSONB,
    "console_lines" INTEGER,
    "error_message" TEXT,
    "summary" JSONB,

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "tests_name_idx" ON "tests"("name");

-- CreateIndex
CREATE UNIQUE INDEX "runs_workflow_id_key" ON "runs"("workflow_id");

-- CreateIndex
CREATE INDEX "runs_test_id_created_at_idx" ON "runs"("test_id", "created_at");

-- CreateIndex
CREATE INDEX "runs_status_idx" ON "runs"("status");

-- CreateIndex
CREATE INDEX "runs_location_id_status_idx" ON "runs"("location_id", "status");

-- CreateIndex
CREATE INDEX "runs_created_at_idx" ON "runs"("created_at");

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
