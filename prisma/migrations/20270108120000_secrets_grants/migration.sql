-- CreateTable: single-use grants through which a location runner fetches one run's secrets.
CREATE TABLE "secrets_grants" (
    "id" TEXT NOT NULL,
    "run_id" UUID NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "redeemed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "secrets_grants_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "secrets_grants_run_id_idx" ON "secrets_grants"("run_id");

-- AddForeignKey
ALTER TABLE "secrets_grants" ADD CONSTRAINT "secrets_grants_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
