-- A notification attempt is recorded when its delivery is claimed, before the request is sent
-- (outcome 'in_flight', no duration yet), and completed with its outcome afterwards. An attempt
-- whose worker died before completing it is marked 'unknown' when the delivery is claimed again.
ALTER TABLE "webhook_attempts" ALTER COLUMN "duration_ms" DROP NOT NULL;
