-- A run's metric frames (the `metrics` artifact, packages/k6-output/FRAMES.md) stored for
-- runs.metrics: one row per run (run_metrics), one per series (run_metric_series) and one per
-- series and wall-clock minute (run_metric_chunks) holding that minute's periods as arrays in a
-- `json` document (kept as written, read back with one JSON.parse). An hour of one series is 60
-- rows in one range of the chunks' primary key; deleting a run cascades down the three tables.

-- CreateTable
CREATE TABLE "run_metrics" (
    "run_id" UUID NOT NULL,
    "periods" INTEGER NOT NULL DEFAULT 0,
    "start_ms" BIGINT,
    "end_ms" BIGINT,
    "gamma" DOUBLE PRECISION,
    "final" BOOLEAN NOT NULL DEFAULT false,
    "complete" BOOLEAN NOT NULL DEFAULT false,
    "problem" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "run_metrics_pkey" PRIMARY KEY ("run_id")
);

-- CreateTable
CREATE TABLE "run_metric_series" (
    "id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "contains" TEXT,
    "tags" JSONB,
    "overflow" BOOLEAN NOT NULL DEFAULT false,
    "total" JSON,

    CONSTRAINT "run_metric_series_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_metric_chunks" (
    "series_id" UUID NOT NULL,
    "chunk_start" BIGINT NOT NULL,
    "first_start" BIGINT NOT NULL,
    "last_start" BIGINT NOT NULL,
    "last_end" BIGINT NOT NULL,
    "periods" INTEGER NOT NULL,
    "points" JSON NOT NULL,
    "total" JSON NOT NULL,
    "bins" JSON,

    CONSTRAINT "run_metric_chunks_pkey" PRIMARY KEY ("series_id","chunk_start")
);

-- CreateIndex
CREATE UNIQUE INDEX "run_metric_series_run_id_key_key" ON "run_metric_series"("run_id", "key");

-- AddForeignKey
ALTER TABLE "run_metrics" ADD CONSTRAINT "run_metrics_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_metric_series" ADD CONSTRAINT "run_metric_series_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "run_metrics"("run_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_metric_chunks" ADD CONSTRAINT "run_metric_chunks_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "run_metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;
