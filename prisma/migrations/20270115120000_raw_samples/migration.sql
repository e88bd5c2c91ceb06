-- k6's per-sample stream becomes opt-in, per test and per run (the metric frames replace it).
ALTER TABLE "tests" ADD COLUMN "raw_samples" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "runs" ADD COLUMN "raw_samples" BOOLEAN NOT NULL DEFAULT false;
