import { get_dmmf } from "@prisma/prisma-schema-wasm";
import type { SqlSession } from "../../src/db/migrate.js";

/**
 * Schema-drift check: describes the database that prisma/migrations produce and the database that
 * prisma/schema.prisma implies in one plain, comparable shape, so a test can `expect(db).toEqual(model)`.
 *
 * Both sides are reduced to what Prisma Client and Prisma Migrate care about: tables, columns
 * (Postgres type, nullability, default), primary keys, indexes, foreign keys and enums. Records
 * are keyed by name so a failing `toEqual` shows a readable, per-column diff.
 *
 * A partial index's predicate is compared as text: schema.prisma gives it with `where: raw("...")`
 * (the `partialIndexes` preview feature), spelled as PostgreSQL's pg_get_expr() prints it, e.g.
 * `(state = 'fulfilled'::text)`; the DMMF leaves it out, so it is read from the schema's text.
 *
 * Not compared: foreign-key constraint names (the DMMF does not expose `@relation(map: ...)`),
 * column order, check constraints (Prisma cannot express them), NULLS NOT DISTINCT, triggers,
 * views and anything outside schema `public`.
 */

export interface SchemaDescription {
  /** Enum type name -> its labels, sorted (ALTER TYPE ... ADD VALUE may append in any order). */
  enums: Record<string, string[]>;
  tables: Record<string, TableDescription>;
}

export interface TableDescription {
  columns: Record<string, ColumnDescription>;
  primaryKey: { name: string; columns: string[] } | null;
  /**
   * Index name -> index; columns in index order, descending ones suffixed " DESC"; `where`, a
   * partial index's predicate as pg_get_expr() prints it (null for a whole-table index).
   */
  indexes: Record<string, IndexDescription>;
  /** Sorted by their columns. */
  foreignKeys: ForeignKeyDescription[];
}

export interface IndexDescription {
  columns: string[];
  unique: boolean;
  method: string;
  where: string | null;
}

export interface ColumnDescription {
  /** As Postgres' format_type() spells it, e.g. "numeric(18,6)", "timestamp(6) with time zone", "text[]". */
  type: string;
  nullable: boolean;
  /** The default in a canonical form (see canonicalDefault), or null when the column has none. */
  default: string | null;
}

export interface ForeignKeyDescription {
  columns: string[];
  references: { table: string; columns: string[] };
  onDelete: string;
  onUpdate: string;
}

// ---------------------------------------------------------------------------------------------
// The database side
// ---------------------------------------------------------------------------------------------

/** Reads the description of schema `public` from the catalog (works on PostgreSQL and PGlite). */
export async function describeDatabase(db: Pick<SqlSession, "query">): Promise<SchemaDescription> {
  const enumRows = await db.query<{ name: string; label: string }>(
    `SELECT t.typname AS name, e.enumlabel AS label
       FROM pg_type t
       JOIN pg_namespace n ON n.oid = t.typnamespace
       JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE n.nspname = 'public'`,
  );
  const enums: Record<string, string[]> = {};
  for (const row of enumRows) enums[row.name] = [...(enums[row.name] ?? []), row.label];
  for (const labels of Object.values(enums)) labels.sort();

  const tableRows = await db.query<{ name: string }>(
    `SELECT c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations'`,
  );
  const tables: Record<string, TableDescription> = {};
  for (const { name } of tableRows)
    tables[name] = {
      columns: {},
      primaryKey: null,
      indexes: {},
      foreignKeys: [],
    };

  // Enum columns are described by the bare type name: format_type() would quote mixed-case names.
  const columnRows = await db.query<{
    table: string;
    column: string;
    type: string;
    enum_name: string | null;
    is_array: boolean;
    not_null: boolean;
    default: string | null;
  }>(
    `SELECT c.relname AS table, a.attname AS column,
            format_type(a.atttypid, a.atttypmod) AS type,
            CASE WHEN base.typtype = 'e' THEN base.typname END AS enum_name,
            t.typelem <> 0 AND t.typcategory = 'A' AS is_array,
            a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type base ON base.oid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  for (const row of columnRows) {
    const table = tables[row.table];
    if (!table) continue;
    const type = row.enum_name ? row.enum_name + (row.is_array ? "[]" : "") : row.type;
    table.columns[row.column] = {
      type,
      nullable: !row.not_null,
      default: row.default === null ? null : canonicalDefault(type, row.default),
    };
  }

  // One row per index column; expression columns (attnum 0) have no attribute and show as "(expression)".
  const indexRows = await db.query<{
    table: string;
    name: string;
    primary: boolean;
    unique: boolean;
    method: string;
    predicate: string | null;
    column: string | null;
    descending: boolean;
  }>(
    `SELECT t.relname AS table, i.relname AS name, ix.indisprimary AS primary, ix.indisunique AS unique,
            am.amname AS method, pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
            a.attname AS column, (k.option & 1) = 1 AS descending
       FROM pg_index ix
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = i.relam
       CROSS JOIN LATERAL unnest(ix.indkey::int2[], ix.indoption::int2[]) WITH ORDINALITY AS k(attnum, option, ord)
       LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
      WHERE n.nspname = 'public'
      ORDER BY t.relname, i.relname, k.ord`,
  );
  for (const row of indexRows) {
    const table = tables[row.table];
    if (!table) continue;
    const column = (row.column ?? "(expression)") + (row.descending ? " DESC" : "");
    if (row.primary) {
      table.primaryKey ??= { name: row.name, columns: [] };
      table.primaryKey.columns.push(column);
      continue;
    }
    const index = table.indexes[row.name];
    if (index) index.columns.push(column);
    else table.indexes[row.name] = { columns: [column], unique: row.unique, method: row.method, where: row.predicate };
  }

  const fkRows = await db.query<{
    table: string;
    columns: string[];
    ref_table: string;
    ref_columns: string[];
    on_delete: string;
    on_update: string;
  }>(
    `SELECT t.relname AS table, rt.relname AS ref_table,
            ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns,
            c.confdeltype AS on_delete, c.confupdtype AS on_update
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_class rt ON rt.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND c.contype = 'f'`,
  );
  const actionByCode: Record<string, string> = {
    a: "NO ACTION",
    r: "RESTRICT",
    c: "CASCADE",
    n: "SET NULL",
    d: "SET DEFAULT",
  };
  for (const row of fkRows) {
    tables[row.table]?.foreignKeys.push({
      columns: row.columns,
      references: { table: row.ref_table, columns: row.ref_columns },
      onDelete: actionByCode[row.on_delete] ?? row.on_delete,
      onUpdate: actionByCode[row.on_update] ?? row.on_update,
    });
  }
  for (const table of Object.values(tables)) table.foreignKeys.sort(compareForeignKeys);

  return { enums, tables };
}

// ---------------------------------------------------------------------------------------------
// The Prisma schema side
// ---------------------------------------------------------------------------------------------

/** The parts of the DMMF (from @prisma/prisma-schema-wasm's get_dmmf) used here. */
interface Dmmf {
  datamodel: {
    enums: {
      name: string;
      dbName: string | null;
      values: { name: string; dbName: string | null }[];
    }[];
    models: DmmfModel[];
    indexes: {
      model: string;
      type: "id" | "unique" | "normal" | "fulltext";
      dbName?: string;
      algorithm?: string;
      fields: { name: string; sortOrder?: "asc" | "desc" }[];
    }[];
  };
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

interface DmmfField {
  name: string;
  dbName?: string;
  kind: "scalar" | "object" | "enum" | "unsupported";
  type: string;
  nativeType: [string, string[]] | null;
  isRequired: boolean;
  isList: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

/** Parses schema.prisma text with the same engine `prisma generate` uses. Throws on an invalid schema. */
export function parseSchema(schemaText: string): Dmmf {
  return JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: [["schema.prisma", schemaText]] }))) as Dmmf;
}

/** Postgres' identifier limit, which Prisma's default constraint names are trimmed to. */
const MAX_IDENTIFIER_LENGTH = 63;

/** Prisma's default index/constraint name: `<table>_<columns>` trimmed so that `<suffix>` fits. */
function defaultConstraintName(parts: string[], suffix: string): string {
  return parts.join("_").slice(0, MAX_IDENTIFIER_LENGTH - suffix.length) + suffix;
}

/**
 * The predicates of the schema's partial indexes (`@@index([...], where: raw("..."))`), which the
 * DMMF does not carry: keyed by model, index type and field names, as `indexKey` makes them.
 * Only raw predicates are read; an object predicate (`where: { ... }`) stops the check.
 */
function partialIndexPredicates(schemaText: string): Map<string, string> {
  const predicates = new Map<string, string>();
  for (const model of schemaText.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    for (const attribute of model[2]!.matchAll(/^\s*@@(index|unique)\(\s*\[([^\]]*)\](.*)\)\s*$/gm)) {
      const rest = attribute[3]!;
      if (!/\bwhere\s*:/.test(rest)) continue;
      const raw = /\bwhere\s*:\s*raw\(\s*("(?:[^"\\]|\\.)*")\s*\)/.exec(rest);
      if (!raw) throw new Error(`${model[1]}: only where: raw("...") predicates are supported by the drift check`);
      const fields = attribute[2]!.split(",").map((f) => f.trim().replace(/\(.*$/, ""));
      const type = attribute[1] === "unique" ? "unique" : "normal";
      predicates.set(indexKey(model[1]!, type, fields), JSON.parse(raw[1]!) as string);
    }
  }
  return predicates;
}

const indexKey = (model: string, type: string, fields: string[]) => `${model} ${type} ${fields.join(",")}`;

/** Builds the description of the database that schema.prisma implies, following Prisma Migrate's conventions. */
export function describeSchema(schemaText: string): SchemaDescription {
  const { datamodel } = parseSchema(schemaText);
  const predicates = partialIndexPredicates(schemaText);
  const models = new Map(datamodel.models.map((m) => [m.name, m]));
  const enumsByName = new Map(datamodel.enums.map((e) => [e.name, e]));
  const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
  const fieldOf = (model: DmmfModel, name: string): DmmfField => {
    const field = model.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${model.name}.${name} not found in the DMMF`);
    return field;
  };
  const columnOf = (model: DmmfModel, name: string) => fieldOf(model, name).dbName ?? name;

  const enums: Record<string, string[]> = {};
  for (const e of datamodel.enums) enums[e.dbName ?? e.name] = e.values.map((v) => v.dbName ?? v.name).sort();

  /** The Postgres type of a scalar or enum field, spelled like format_type(). */
  const typeOf = (field: DmmfField): string => {
    const base =
      field.kind === "enum"
        ? (enumsByName.get(field.type)?.dbName ?? field.type)
        : postgresType(field.type, field.nativeType);
    return field.isList ? `${base}[]` : base;
  };

  const tables: Record<string, TableDescription> = {};
  for (const model of datamodel.models) {
    const columns: Record<string, ColumnDescription> = {};
    for (const field of model.fields) {
      if (field.kind !== "scalar" && field.kind !== "enum") continue;
      const type = typeOf(field);
      columns[field.dbName ?? field.name] = {
        type,
        // Prisma creates scalar-list columns without NOT NULL even though the field is never null.
        nullable: !field.isRequired || field.isList,
        default: field.hasDefaultValue ? expectedDefault(field, type, enumsByName) : null,
      };
    }
    tables[tableOf(model)] = {
      columns,
      primaryKey: null,
      indexes: {},
      foreignKeys: [],
    };
  }

  for (const index of datamodel.indexes) {
    const model = models.get(index.model);
    if (!model) continue;
    const table = tables[tableOf(model)];
    if (!table) continue;
    const columnNames = index.fields.map((f) => columnOf(model, f.name));
    const columns = index.fields.map((f, i) => columnNames[i] + (f.sortOrder === "desc" ? " DESC" : ""));
    if (index.type === "id") {
      table.primaryKey = {
        name: index.dbName ?? defaultConstraintName([tableOf(model)], "_pkey"),
        columns,
      };
    } else if (index.type === "unique" || index.type === "normal") {
      const unique = index.type === "unique";
      const name = index.dbName ?? defaultConstraintName([tableOf(model), ...columnNames], unique ? "_key" : "_idx");
      table.indexes[name] = {
        columns,
        unique,
        method: (index.algorithm ?? "BTree").toLowerCase(),
        where:
          predicates.get(
            indexKey(
              model.name,
              index.type,
              index.fields.map((f) => f.name),
            ),
          ) ?? null,
      };
    } else {
      throw new Error(`Index type ${index.type} on ${model.name} is not supported by PostgreSQL`);
    }
  }

  for (const model of datamodel.models) {
    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationFromFields?.length) continue;
      const target = models.get(field.type);
      if (!target) throw new Error(`${model.name}.${field.name} relates to unknown model ${field.type}`);
      // Prisma's defaults: an optional relation is SET NULL on delete, a required one RESTRICT;
      // updates cascade.
      const onDelete = field.relationOnDelete ?? (field.isRequired ? "Restrict" : "SetNull");
      const onUpdate = field.relationOnUpdate ?? "Cascade";
      tables[tableOf(model)]?.foreignKeys.push({
        columns: field.relationFromFields.map((name) => columnOf(model, name)),
        references: {
          table: tableOf(target),
          columns: (field.relationToFields ?? []).map((name) => columnOf(target, name)),
        },
        onDelete: referentialAction(onDelete),
        onUpdate: referentialAction(onUpdate),
      });
    }
  }

  addImplicitManyToManyTables(datamodel.models, tables, tableOf, typeOf);
  for (const table of Object.values(tables)) table.foreignKeys.sort(compareForeignKeys);
  return { enums, tables };
}

/**
 * An implicit many-to-many relation (list fields on both sides, no `fields:`) is stored in a join
 * table `_<RelationName>` with columns A and B referencing the ids of the two models, A being the
 * model whose name sorts first; Prisma 6+ makes (A, B) the primary key and indexes B.
 */
function addImplicitManyToManyTables(
  models: DmmfModel[],
  tables: Record<string, TableDescription>,
  tableOf: (model: DmmfModel) => string,
  typeOf: (field: DmmfField) => string,
): void {
  const sides = new Map<string, DmmfModel[]>();
  const isOneToMany = new Set<string>();
  for (const model of models) {
    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationName) continue;
      if (!field.isList) isOneToMany.add(field.relationName);
      else sides.set(field.relationName, [...(sides.get(field.relationName) ?? []), model]);
    }
  }
  for (const [relation, ends] of sides) {
    if (isOneToMany.has(relation)) continue;
    const [a, b] = [...ends].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    if (!a || !b) continue;
    const name = `_${relation}`;
    const refColumn = (model: DmmfModel) => {
      const id = model.fields.find((f) => f.isId);
      if (!id) throw new Error(`Implicit many-to-many ${relation} needs a single-field @id on ${model.name}`);
      return id;
    };
    const cascade = (column: string, model: DmmfModel): ForeignKeyDescription => ({
      columns: [column],
      references: {
        table: tableOf(model),
        columns: [refColumn(model).dbName ?? refColumn(model).name],
      },
      onDelete: "CASCADE",
      onUpdate: "CASCADE",
    });
    tables[name] = {
      columns: {
        A: { type: typeOf(refColumn(a)), nullable: false, default: null },
        B: { type: typeOf(refColumn(b)), nullable: false, default: null },
      },
      primaryKey: {
        name: defaultConstraintName([name, "AB"], "_pkey"),
        columns: ["A", "B"],
      },
      indexes: {
        [defaultConstraintName([name, "B"], "_index")]: {
          columns: ["B"],
          unique: false,
          method: "btree",
          where: null,
        },
      },
      foreignKeys: [cascade("A", a), cascade("B", b)],
    };
  }
}

function referentialAction(action: string): string {
  const actions: Record<string, string> = {
    Cascade: "CASCADE",
    Restrict: "RESTRICT",
    NoAction: "NO ACTION",
    SetNull: "SET NULL",
    SetDefault: "SET DEFAULT",
  };
  const sql = actions[action];
  if (!sql) throw new Error(`Unknown referential action ${action}`);
  return sql;
}

/** Prisma scalar type (+ optional @db.* native type) -> the type as Postgres' format_type() prints it. */
export function postgresType(prismaType: string, nativeType: [string, string[]] | null): string {
  if (!nativeType) {
    const defaults: Record<string, string> = {
      String: "text",
      Int: "integer",
      BigInt: "bigint",
      Boolean: "boolean",
      Float: "double precision",
      Decimal: "numeric(65,30)",
      DateTime: "timestamp(3) without time zone",
      Json: "jsonb",
      Bytes: "bytea",
    };
    const type = defaults[prismaType];
    if (!type) throw new Error(`No Postgres mapping for Prisma type ${prismaType}; extend postgresType()`);
    return type;
  }
  const [name, args] = nativeType;
  const withArgs = (sqlName: string) => (args.length ? `${sqlName}(${args.join(",")})` : sqlName);
  // Time types put the precision before "with(out) time zone".
  const time = (sqlName: string, zone: string) => `${withArgs(sqlName)} ${zone} time zone`;
  switch (name) {
    case "Text":
      return "text";
    case "Char":
      return withArgs("character");
    case "VarChar":
      return withArgs("character varying");
    case "Bit":
      return withArgs("bit");
    case "VarBit":
      return withArgs("bit varying");
    case "Uuid":
    case "Xml":
    case "Inet":
    case "Citext":
    case "Boolean":
    case "Integer":
    case "SmallInt":
    case "Oid":
    case "BigInt":
    case "Money":
    case "Real":
    case "Date":
    case "Json":
    case "JsonB":
    case "ByteA":
      return name.toLowerCase();
    case "DoublePrecision":
      return "double precision";
    case "Decimal":
      return withArgs("numeric");
    case "Timestamp":
      return time("timestamp", "without");
    case "Timestamptz":
      return time("timestamp", "with");
    case "Time":
      return time("time", "without");
    case "Timetz":
      return time("time", "with");
    default:
      throw new Error(`No Postgres mapping for native type @db.${name}; extend postgresType()`);
  }
}

/** Defaults Prisma Client fills in itself: the column gets no database default. */
const CLIENT_SIDE_DEFAULTS = new Set(["uuid", "cuid", "nanoid", "ulid"]);

/** The canonical database default a field's @default implies, or null when it implies none. */
function expectedDefault(
  field: DmmfField,
  type: string,
  enumsByName: Map<string, Dmmf["datamodel"]["enums"][number]>,
): string | null {
  const value = field.default;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const { name, args } = value as { name: string; args: unknown[] };
    if (CLIENT_SIDE_DEFAULTS.has(name)) return null;
    if (name === "now") return "now()";
    if (name === "autoincrement") return "autoincrement()";
    // Written as Postgres prints it, a dbgenerated() expression canonicalises like the catalog's.
    if (name === "dbgenerated" && typeof args[0] === "string") return canonicalDefault(type, args[0]);
    throw new Error(
      `@default(${name}()) on ${field.name} is not supported by the drift check; extend expectedDefault()`,
    );
  }
  const literal = (v: unknown) => {
    const text = String(v);
    if (field.kind !== "enum") return text;
    const member = enumsByName.get(field.type)?.values.find((m) => m.name === text);
    return member?.dbName ?? text;
  };
  const baseType = type.replace(/\[\]$/, "");
  if (Array.isArray(value)) return JSON.stringify(value.map((v) => canonicalLiteral(baseType, literal(v))));
  return canonicalLiteral(type, literal(value));
}

/**
 * Reduces a default expression as pg_get_expr() prints it to a form that does not depend on how
 * the migration spelled it: `'usd'::text` -> `usd`, `'-1'::integer` -> `-1`, `1.50` -> `1.5`,
 * `CURRENT_TIMESTAMP` -> `now()`, `nextval(...)` -> `autoincrement()`, `ARRAY['a'::text]` -> `["a"]`.
 * Anything else (a function call, say) is kept as printed.
 */
export function canonicalDefault(type: string, expression: string): string {
  const expr = expression.trim();
  if (/^nextval\(/i.test(expr)) return "autoincrement()";
  if (/^(now\(\)|current_timestamp)$/i.test(expr)) return "now()";
  const array = /^ARRAY\[(.*?)\](?:::[\w\s."]+\[\])?$/s.exec(expr);
  if (array) {
    const baseType = type.replace(/\[\]$/, "");
    const elements = array[1]?.match(/'(?:[^']|'')*'(?:::[\w\s."]+)?|[^,\s][^,]*/g) ?? [];
    return JSON.stringify(elements.map((e) => canonicalLiteral(baseType, unquote(e.trim()) ?? e.trim())));
  }
  const literal = unquote(expr);
  if (literal !== null) return canonicalLiteral(type, literal);
  if (/^-?\d+(\.\d+)?$|^(true|false)$/i.test(expr)) return canonicalLiteral(type, expr);
  return expr;
}

/** `'it''s'::text` -> `it's`; null when the expression is not a (possibly cast) string literal. */
function unquote(expr: string): string | null {
  const match = /^'((?:[^']|'')*)'(?:::[\w\s."()]+)?$/s.exec(expr);
  return match ? (match[1] ?? "").replaceAll("''", "'") : null;
}

/** Normalises a literal by the column's type, so 1.50 equals 1.5 and `{"a":1}` equals `{"a": 1}`. */
function canonicalLiteral(type: string, text: string): string {
  if (/^(smallint|integer|bigint|numeric|real|double precision|money)/.test(type)) {
    const n = Number(text);
    return Number.isFinite(n) ? String(n) : text;
  }
  if (/^jsonb?$/.test(type)) {
    try {
      return JSON.stringify(JSON.parse(text));
    } catch {
      return text;
    }
  }
  if (/^timestamp/.test(type)) {
    // Postgres prints `2020-01-01 00:00:00+00` (or no zone for timestamp without time zone, where
    // Prisma's literal's zone was dropped): read both as UTC instants.
    const iso = text.replace(" ", "T");
    const ms = Date.parse(/(Z|[+-]\d\d(:?\d\d)?)$/.test(iso) ? iso : `${iso}Z`);
    return Number.isNaN(ms) ? text : new Date(ms).toISOString();
  }
  return text;
}

function compareForeignKeys(x: ForeignKeyDescription, y: ForeignKeyDescription): number {
  const kx = JSON.stringify([x.columns, x.references]);
  const ky = JSON.stringify([y.columns, y.references]);
  return kx < ky ? -1 : kx > ky ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

/**
 * Lists every difference between two descriptions as `path: database X, schema Y` lines (empty
 * when they agree). `expect(db).toEqual(model)` gives the fuller picture; this gives assertions
 * something precise to check.
 */
export function diffDescriptions(db: unknown, model: unknown, path = ""): string[] {
  if (JSON.stringify(db) === JSON.stringify(model)) return [];
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  if (isRecord(db) && isRecord(model)) {
    const keys = [...new Set([...Object.keys(db), ...Object.keys(model)])].sort();
    return keys.flatMap((key) => {
      const at = path ? `${path}.${key}` : key;
      if (!(key in db)) return [`${at}: missing in the database (schema has ${JSON.stringify(model[key])})`];
      if (!(key in model)) return [`${at}: missing in schema.prisma (database has ${JSON.stringify(db[key])})`];
      return diffDescriptions(db[key], model[key], at);
    });
  }
  return [`${path}: database ${JSON.stringify(db)}, schema ${JSON.stringify(model)}`];
}
