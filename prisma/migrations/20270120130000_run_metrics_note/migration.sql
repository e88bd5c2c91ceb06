-- What could not be stored of a run's metric frames (a damaged or missing file, skipped lines):
-- a note next to the run's metrics, no longer in error_message, which says why a run failed.
ALTER TABLE "runs" ADD COLUMN "metrics_note" TEXT;

-- Notes already written into error_message move: those of runs that passed or were cancelled
-- (whose error_message was empty before the note), and the note's line of the others.
UPDATE "runs" SET "metrics_note" = substring("error_message" from '(?:^|\n)(metric frames: [^\n]*)$')
WHERE "error_message" ~ '(^|\n)metric frames: [^\n]*$';
UPDATE "runs" SET "error_message" = NULLIF(regexp_replace("error_message", '\n?metric frames: [^\n]*$', ''), '')
WHERE "metrics_note" IS NOT NULL AND "error_message" ~ '(^|\n)metric frames: [^\n]*$';
