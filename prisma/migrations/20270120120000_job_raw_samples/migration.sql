-- A job's runs may keep k6's per-sample stream (the `samples` artifact): true or false for every
-- run a firing starts, null (the default) for each test's own setting.
ALTER TABLE "jobs" ADD COLUMN "raw_samples" BOOLEAN;
