import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { applyMigrations, readMigrations, type SqlSession } from "../../src/db/migrate.js";
import { describeDatabase, describeSchema, diffDescriptions, type SchemaDescription } from "./schema-drift.js";

// prisma/schema.prisma is the model; prisma/migrations is hand-written SQL (the Prisma CLI's schema
// engine is unavailable here). This test is what keeps the two in step: it applies every migration
// to an empty database and compares the result with what the schema implies.

const SCHEMA_PATH = fileURLToPath(new URL("../../prisma/schema.prisma", import.meta.url));

let pglite: PGlite;
let schemaText: string;
let database: SchemaDescription;

beforeAll(async () => {
  pglite = await PGlite.create(); // no dataDir: in memory
  const session: SqlSession = {
    exec: async (sql) => void (await pglite.exec(sql)),
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
  };
  await applyMigrations(session, await readMigrations());
  database = await describeDatabase(session);
  schemaText = await readFile(SCHEMA_PATH, "utf8");
}, 60_000);

afterAll(async () => {
  await pglite?.close();
});

describe("schema drift", () => {
  test("the migrations produce exactly the database schema.prisma describes", () => {
    const model = describeSchema(schemaText);
    // Guard against a vacuous pass (say, both sides coming back empty).
    expect(Object.keys(model.tables).length).toBeGreaterThan(0);
    // On failure the diff lists each table/column/index that differs. Fix whichever side is wrong:
    // usually a new migration is missing for a schema.prisma change.
    expect(database).toEqual(model);
    expect(diffDescriptions(database, model)).toEqual([]);
  });

  test("the check notices a field that has no migration", () => {
    // Add an optional column to the first model, as someone editing schema.prisma without writing
    // the migration would.
    const firstModel = /^model\s+(\w+)\s*\{[^\n]*\n/m.exec(schemaText);
    expect(firstModel).not.toBeNull();
    const at = (firstModel?.index ?? 0) + (firstModel?.[0].length ?? 0);
    const drifted = `${schemaText.slice(0, at)}  driftProbe String?\n${schemaText.slice(at)}`;

    const model = describeSchema(drifted);
    const table = Object.keys(model.tables).find((name) => "driftProbe" in (model.tables[name]?.columns ?? {}));
    expect(table).toBeDefined();
    expect(database).not.toEqual(model);
    expect(diffDescriptions(database, model)).toEqual([
      `tables.${table}.columns.driftProbe: missing in the database (schema has {"type":"text","nullable":true,"default":null})`,
    ]);
  });
});

// The checker itself, on a small fixture that uses what the project schema does not yet: enums,
// scalar lists, composite and implicit many-to-many keys, sort orders, hash indexes, native types
// and most kinds of default (and a partial index, as the project's). FIXTURE_SQL is written the way
// `prisma migrate dev` renders FIXTURE_SCHEMA.
const FIXTURE_SCHEMA = String.raw`
generator client {
  provider        = "prisma-client"
  output          = "./unused"
  previewFeatures = ["partialIndexes"]
}

datasource db {
  provider = "postgresql"
}

enum Role {
  Admin  @map("admin")
  Member @map("member")

  @@map("role")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique @db.VarChar(320)
  role      Role     @default(Member)
  roles     Role[]   @default([Admin])
  tags      String[] @default([])
  balance   Decimal  @default(1.50) @db.Decimal(12, 2)
  score     Float    @default(-2.5)
  settings  Json     @default("{\"theme\": \"dark\"}")
  token     String   @default(uuid()) @db.Uuid
  ref       String   @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  createdAt DateTime @default(now()) @map("created_at")
  updatedAt DateTime @updatedAt @map("updated_at")
  posts     Post[]
  groups    Group[]

  @@index([createdAt(sort: Desc)])
  @@index([email, createdAt], where: raw("(role = 'admin'::role)"))
  @@map("users")
}

model Post {
  authorId Int    @map("author_id")
  slug     String
  title    String @default("it's new")
  author   User   @relation(fields: [authorId], references: [id], onDelete: Cascade)

  @@id([authorId, slug])
  @@index([title], type: Hash)
}

model Group {
  id    String @id
  users User[]
}
`;

const FIXTURE_SQL = `
CREATE TYPE "role" AS ENUM ('admin', 'member');
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "email" VARCHAR(320) NOT NULL,
    "role" "role" NOT NULL DEFAULT 'member',
    "roles" "role"[] DEFAULT ARRAY['admin']::"role"[],
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "balance" DECIMAL(12,2) NOT NULL DEFAULT 1.50,
    "score" DOUBLE PRECISION NOT NULL DEFAULT -2.5,
    "settings" JSONB NOT NULL DEFAULT '{"theme": "dark"}',
    "token" UUID NOT NULL,
    "ref" UUID NOT NULL DEFAULT gen_random_uuid(),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Post" (
    "author_id" INTEGER NOT NULL,
    "slug" TEXT NOT NULL,
    "title" TEXT NOT NULL DEFAULT 'it''s new',
    CONSTRAINT "Post_pkey" PRIMARY KEY ("author_id","slug")
);
CREATE TABLE "Group" (
    "id" TEXT NOT NULL,
    CONSTRAINT "Group_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "_GroupToUser" (
    "A" TEXT NOT NULL,
    "B" INTEGER NOT NULL,
    CONSTRAINT "_GroupToUser_AB_pkey" PRIMARY KEY ("A","B")
);
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE INDEX "users_created_at_idx" ON "users"("created_at" DESC);
CREATE INDEX "users_email_created_at_idx" ON "users"("email", "created_at") WHERE "role" = 'admin';
CREATE INDEX "Post_title_idx" ON "Post" USING HASH ("title");
CREATE INDEX "_GroupToUser_B_index" ON "_GroupToUser"("B");
ALTER TABLE "Post" ADD CONSTRAINT "Post_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_GroupToUser" ADD CONSTRAINT "_GroupToUser_A_fkey" FOREIGN KEY ("A") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_GroupToUser" ADD CONSTRAINT "_GroupToUser_B_fkey" FOREIGN KEY ("B") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
`;

describe("the drift checker", () => {
  let fixtureDb: PGlite;
  /** Describes the database `sql` creates, inside a transaction that is rolled back afterwards. */
  const describeFixture = async (sql: string) => {
    await fixtureDb.exec("BEGIN");
    try {
      await fixtureDb.exec(sql);
      return await describeDatabase({
        query: async <T>(text: string, params?: unknown[]) => (await fixtureDb.query<T>(text, params)).rows,
      });
    } finally {
      await fixtureDb.exec("ROLLBACK");
    }
  };

  beforeAll(async () => {
    fixtureDb = await PGlite.create();
  }, 60_000);

  afterAll(async () => {
    await fixtureDb?.close();
  });

  test("finds no difference between the fixture schema and its SQL", async () => {
    const model = describeSchema(FIXTURE_SCHEMA);
    expect(Object.keys(model.tables).sort()).toEqual(["Group", "Post", "_GroupToUser", "users"]);
    expect(await describeFixture(FIXTURE_SQL)).toEqual(model);
  });

  // Each edit to FIXTURE_SQL must surface as exactly the listed differences.
  const edits: { what: string; from: string | RegExp; to: string; differences: RegExp[] }[] = [
    { what: "an enum value", from: "'member');", to: "'member', 'guest');", differences: [/^enums\.role: /] },
    {
      what: "a column type",
      from: "VARCHAR(320)",
      to: "TEXT",
      differences: [/^tables\.users\.columns\.email\.type: /],
    },
    { what: "nullability", from: '"token" UUID NOT NULL', to: '"token" UUID', differences: [/\.token\.nullable: /] },
    { what: "an enum default", from: "DEFAULT 'member'", to: "DEFAULT 'admin'", differences: [/\.role\.default: /] },
    { what: "a list default", from: "ARRAY[]::TEXT[]", to: "ARRAY['x']::TEXT[]", differences: [/\.tags\.default: /] },
    { what: "a numeric default", from: "DEFAULT 1.50", to: "DEFAULT 1.05", differences: [/\.balance\.default: /] },
    { what: "a JSON default", from: '"dark"}', to: '"light"}', differences: [/\.settings\.default: /] },
    {
      what: "a database default for a client-side one",
      from: '"token" UUID NOT NULL',
      to: '"token" UUID NOT NULL DEFAULT gen_random_uuid()',
      differences: [/\.token\.default: database "gen_random_uuid\(\)", schema null$/],
    },
    {
      what: "an index's sort order",
      from: '"created_at" DESC',
      to: '"created_at"',
      differences: [/^tables\.users\.indexes\.users_created_at_idx\.columns: /],
    },
    { what: "an index's method", from: "USING HASH ", to: "", differences: [/\.Post_title_idx\.method: /] },
    {
      what: "an index's name",
      from: '"users_email_key"',
      to: '"users_email_unique"',
      differences: [/\.users_email_key: missing in the database/, /\.users_email_unique: missing in schema\.prisma/],
    },
    {
      what: "a unique index made plain",
      from: "CREATE UNIQUE INDEX",
      to: "CREATE INDEX",
      differences: [/^tables\.users\.indexes\.users_email_key\.unique: /],
    },
    {
      what: "a partial index's predicate",
      from: `WHERE "role" = 'admin'`,
      to: `WHERE "role" = 'member'`,
      differences: [/^tables\.users\.indexes\.users_email_created_at_idx\.where: database "\(role = 'member'::role\)"/],
    },
    {
      what: "a partial index made whole",
      from: ` WHERE "role" = 'admin'`,
      to: "",
      differences: [/^tables\.users\.indexes\.users_email_created_at_idx\.where: database null/],
    },
    {
      what: "a whole index made partial",
      from: '"created_at" DESC);',
      to: '"created_at" DESC) WHERE "score" > 0;',
      differences: [/^tables\.users\.indexes\.users_created_at_idx\.where: database "\(score > /],
    },
    {
      what: "a primary key's column order",
      from: 'PRIMARY KEY ("author_id","slug")',
      to: 'PRIMARY KEY ("slug","author_id")',
      differences: [/^tables\.Post\.primaryKey\.columns: /],
    },
    {
      what: "a foreign key's ON DELETE",
      from: '"users"("id") ON DELETE CASCADE',
      to: '"users"("id") ON DELETE RESTRICT',
      differences: [/^tables\.Post\.foreignKeys: /],
    },
    {
      what: "a missing join-table index",
      from: /^CREATE INDEX "_GroupToUser_B_index".*$/m,
      to: "",
      differences: [/^tables\._GroupToUser\.indexes\._GroupToUser_B_index: missing in the database/],
    },
  ];

  test.each(edits)("notices $what", async ({ from, to, differences }) => {
    const sql = FIXTURE_SQL.replace(from, to);
    expect(sql).not.toBe(FIXTURE_SQL); // the edit applied
    const found = diffDescriptions(await describeFixture(sql), describeSchema(FIXTURE_SCHEMA));
    expect(found).toEqual(differences.map((pattern) => expect.stringMatching(pattern)));
  });
});
