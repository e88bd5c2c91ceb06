-- AlterTable
ALTER TABLE "job_firings" ADD COLUMN     "reason" TEXT;
