-- A test's files (data files and modules at paths relative to its script) and k6 archives.
-- Bytes are stored once per project and content in S3 (files/<projectId>/<sha256>), listed in
-- file_blobs; tests and runs name them by hash, so a run keeps exactly the files it ran.

-- CreateTable
CREATE TABLE "file_blobs" (
    "project_id" UUID NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "file_blobs_pkey" PRIMARY KEY ("project_id","sha256")
);

-- CreateTable
CREATE TABLE "test_files" (
    "test_id" UUID NOT NULL,
    "path" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,

    CONSTRAINT "test_files_pkey" PRIMARY KEY ("test_id","path")
);

-- CreateTable
CREATE TABLE "run_files" (
    "run_id" UUID NOT NULL,
    "path" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,

    CONSTRAINT "run_files_pkey" PRIMARY KEY ("run_id","path")
);

-- AlterTable
ALTER TABLE "tests" ADD COLUMN "archive_sha256" TEXT, ADD COLUMN "archive_size" INTEGER;
ALTER TABLE "runs" ADD COLUMN "archive_sha256" TEXT, ADD COLUMN "archive_size" INTEGER;

-- AddForeignKey
ALTER TABLE "file_blobs" ADD CONSTRAINT "file_blobs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "test_files" ADD CONSTRAINT "test_files_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "run_files" ADD CONSTRAINT "run_files_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
