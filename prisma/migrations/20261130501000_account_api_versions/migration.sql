-- Each account's default API version per API that versions its wire format: {"<api>": "<version>"}
-- (LeanRails: {"leanrails": "2026-03-09"}). A request's own version header overrides it; an API
-- missing from the map gets the installation's default. Set with `kassa accounts api-version`.

-- AlterTable
ALTER TABLE "accounts" ADD COLUMN "api_versions" JSONB NOT NULL DEFAULT '{}';
