-- AlterTable: a run's result is recorded before the artifacts its runner spooled are stored.
ALTER TABLE "runs" ADD COLUMN     "artifacts_pending" BOOLEAN NOT NULL DEFAULT false;
