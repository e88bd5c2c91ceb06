-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "env" JSONB;

-- CreateTable
CREATE TABLE "test_variables" (
    "id" UUID NOT NULL,
    "test_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "secret" BOOLEAN NOT NULL DEFAULT false,
    "value" TEXT,
    "ciphertext" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "test_variables_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "test_variables_test_id_name_key" ON "test_variables"("test_id", "name");

-- AddForeignKey
ALTER TABLE "test_variables" ADD CONSTRAINT "test_variables_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
