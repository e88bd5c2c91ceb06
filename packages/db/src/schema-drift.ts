// Proof that a migrated database matches prisma/schema.prisma. Migrations are hand-written (the
// Prisma CLI cannot diff offline here), so this compares the schema's DMMF, computed offline by
// @prisma/internals' wasm, with what Postgres reports: tables, columns (type, nullability,
// default), enums, primary keys, indexes and foreign keys. Test-only: @prisma/internals is a
// dev dependency.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import internals from '@prisma/internals'
import pg from 'pg'

export const defaultSchemaPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../prisma/schema.prisma')

type Datamodel = Awaited<ReturnType<typeof internals.getDMMF>>['datamodel']
type Model = Datamodel['models'][number]
type Field = Model['fields'][number]

/** One line per database object, e.g. `column "runs"."status" run_status NOT NULL DEFAULT 'queued'::run_status`. */
export type SchemaShape = string[]

export interface SchemaDrift {
  /** In schema.prisma but not in the database (a migration is missing). */
  missing: string[]
  /** In the database but not in schema.prisma (the schema or a migration is wrong). */
  unexpected: string[]
}

const IGNORED_TABLES = new Set(['_prisma_migrations'])
const IDENTIFIER_MAX = 63

export async function loadDatamodel(schemaPath: string = defaultSchemaPath): Promise<Datamodel> {
  const dmmf = await internals.getDMMF({ datamodel: await readFile(schemaPath, 'utf8') })
  return dmmf.datamodel
}

/** Compares the database at `databaseUrl` with the schema file; empty lists mean they match. */
export async function diffDatabaseAgainstSchema(
  databaseUrl: string,
  opts: { schemaPath?: string } = {},
): Promise<SchemaDrift> {
  const expected = expectedShape(await loadDatamodel(opts.schemaPath))
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return diffShapes(expected, await databaseShape(client))
  } finally {
    await client.end()
  }
}

export function diffShapes(expected: SchemaShape, actual: SchemaShape): SchemaDrift {
  const have = new Set(actual)
  const want = new Set(expected)
  return {
    missing: expected.filter((line) => !have.has(line)).sort(),
    unexpected: actual.filter((line) => !want.has(line)).sort(),
  }
}

/** What `prisma migrate dev` would create for this datamodel on Postgres, as shape lines. */
export function expectedShape(datamodel: Datamodel): SchemaShape {
  const lines: string[] = []
  const enumNames = new Map(datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]))
  const modelsByName = new Map(datamodel.models.map((m) => [m.name, m]))

  for (const e of datamodel.enums) {
    lines.push(`enum ${quote(e.dbName ?? e.name)} (${e.values.map((v) => literal(v.dbName ?? v.name)).join(', ')})`)
  }
  for (const model of datamodel.models) {
    const table = tableName(model)
    lines.push(`table ${quote(table)}`)
    for (const field of model.fields) {
      if (field.kind === 'object') continue
      const type = columnType(field, enumNames)
      const nullability = field.isRequired ? 'NOT NULL' : 'NULL'
      const def = columnDefault(field, enumNames)
      lines.push(`column ${quote(table)}.${quote(columnName(field))} ${type} ${nullability}${def ? ` DEFAULT ${def}` : ''}`)
    }
    for (const field of model.fields) {
      const from = field.relationFromFields ?? []
      if (field.kind !== 'object' || from.length === 0) continue
      const target = modelsByName.get(field.type)
      if (!target) throw new Error(`Relation ${model.name}.${field.name} points at unknown model ${field.type}`)
      const cols = from.map((f) => columnOf(model, f))
      const refCols = (field.relationToFields ?? []).map((f) => columnOf(target, f))
      const required = from.every((f) => model.fields.find((x) => x.name === f)?.isRequired)
      const onDelete = referentialAction(field.relationOnDelete ?? (required ? 'Restrict' : 'SetNull'))
      const onUpdate = referentialAction(field.relationOnUpdate ?? 'Cascade')
      lines.push(
        `foreign key ${quote(constraintName(table, cols, 'fkey'))} ${quote(table)} (${cols.map(quote).join(', ')}) ` +
          `-> ${quote(tableName(target))} (${refCols.map(quote).join(', ')}) ON DELETE ${onDelete} ON UPDATE ${onUpdate}`,
      )
    }
  }
  for (const index of datamodel.indexes) {
    const model = modelsByName.get(index.model)
    if (!model) throw new Error(`Index on unknown model ${index.model}`)
    const table = tableName(model)
    const cols = index.fields.map((f) => columnOf(model, f.name))
    const dbName = 'dbName' in index && typeof index.dbName === 'string' ? index.dbName : undefined
    switch (index.type) {
      case 'id':
        lines.push(`primary key ${quote(dbName ?? `${table}_pkey`)} on ${quote(table)} (${cols.map(quote).join(', ')})`)
        break
      case 'unique':
        lines.push(
          `unique index ${quote(dbName ?? constraintName(table, cols, 'key'))} on ${quote(table)} (${cols.map(quote).join(', ')})`,
        )
        break
      case 'normal':
        lines.push(`index ${quote(dbName ?? constraintName(table, cols, 'idx'))} on ${quote(table)} (${cols.map(quote).join(', ')})`)
        break
      default:
        throw new Error(`schema-drift does not know index type ${index.type} (${model.name}); extend it`)
    }
  }
  return lines.sort()
}

/** The same shape lines, read from Postgres' catalogs for the connection's current schema. */
export async function databaseShape(client: pg.ClientBase): Promise<SchemaShape> {
  const lines: string[] = []
  const ignored = [...IGNORED_TABLES]

  const enums = await client.query<{ name: string; labels: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE t.typnamespace = current_schema()::regnamespace
     GROUP BY t.typname`)
  for (const row of enums.rows) lines.push(`enum ${quote(row.name)} (${row.labels.map(literal).join(', ')})`)

  const tables = await client.query<{ name: string }>(`
    SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
       AND NOT (c.relname = ANY($1::text[]))`, [ignored])
  for (const row of tables.rows) lines.push(`table ${quote(row.name)}`)

  const columns = await client.query<{ table: string; column: string; type: string; not_null: boolean; def: string | null }>(`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS def
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
       AND a.attnum > 0 AND NOT a.attisdropped AND NOT (c.relname = ANY($1::text[]))`, [ignored])
  for (const row of columns.rows) {
    lines.push(
      `column ${quote(row.table)}.${quote(row.column)} ${row.type} ${row.not_null ? 'NOT NULL' : 'NULL'}` +
        (row.def !== null ? ` DEFAULT ${row.def}` : ''),
    )
  }

  const indexes = await client.query<{ name: string; table: string; primary: boolean; unique: boolean; method: string; columns: string[]; partial: boolean }>(`
    SELECT i.relname AS name, t.relname AS table, x.indisprimary AS primary, x.indisunique AS unique,
           am.amname AS method, x.indpred IS NOT NULL AS partial,
           array(SELECT coalesce(a.attname::text, '<expression>')
                   FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                   LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                  ORDER BY k.n) AS columns
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_am am ON am.oid = i.relam
     WHERE t.relnamespace = current_schema()::regnamespace AND NOT (t.relname = ANY($1::text[]))`, [ignored])
  for (const row of indexes.rows) {
    const cols = `(${row.columns.map(quote).join(', ')})`
    const extra = `${row.method === 'btree' ? '' : ` USING ${row.method}`}${row.partial ? ' WHERE <predicate>' : ''}`
    const kind = row.primary ? 'primary key' : row.unique ? 'unique index' : 'index'
    lines.push(`${kind} ${quote(row.name)} on ${quote(row.table)} ${cols}${extra}`)
  }

  const fks = await client.query<{ name: string; table: string; columns: string[]; ref_table: string; ref_columns: string[]; on_delete: string; on_update: string }>(`
    SELECT con.conname AS name, t.relname AS table, r.relname AS ref_table,
           con.confdeltype AS on_delete, con.confupdtype AS on_update,
           array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
           array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, n)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.n) AS ref_columns
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_class r ON r.oid = con.confrelid
     WHERE con.contype = 'f' AND t.relnamespace = current_schema()::regnamespace
       AND NOT (t.relname = ANY($1::text[]))`, [ignored])
  for (const row of fks.rows) {
    lines.push(
      `foreign key ${quote(row.name)} ${quote(row.table)} (${row.columns.map(quote).join(', ')}) ` +
        `-> ${quote(row.ref_table)} (${row.ref_columns.map(quote).join(', ')}) ` +
        `ON DELETE ${pgAction(row.on_delete)} ON UPDATE ${pgAction(row.on_update)}`,
    )
  }
  return lines.sort()
}

function tableName(model: Model): string {
  return model.dbName ?? model.name
}

function columnName(field: Field): string {
  return field.dbName ?? field.name
}

function columnOf(model: Model, fieldName: string): string {
  const field = model.fields.find((f) => f.name === fieldName)
  if (!field) throw new Error(`${model.name} has no field ${fieldName}`)
  return columnName(field)
}

/** Prisma's default constraint name: `<table>_<columns>_<suffix>`, cut to Postgres' 63 bytes. */
function constraintName(table: string, columns: string[], suffix: string): string {
  const prefix = `${table}_${columns.join('_')}`
  const room = IDENTIFIER_MAX - suffix.length - 1
  return `${prefix.length > room ? prefix.slice(0, room) : prefix}_${suffix}`
}

function columnType(field: Field, enumNames: Map<string, string>): string {
  const [native, args = []] = field.nativeType ?? []
  let base: string
  if (field.kind === 'enum') {
    const name = enumNames.get(field.type)
    if (!name) throw new Error(`Unknown enum ${field.type}`)
    base = typeName(name)
  } else if (native) {
    base = nativeColumnType(native, args)
  } else {
    const scalar: Record<string, string> = {
      String: 'text',
      Int: 'integer',
      BigInt: 'bigint',
      Float: 'double precision',
      Decimal: 'numeric(65,30)',
      Boolean: 'boolean',
      DateTime: 'timestamp(3) without time zone',
      Json: 'jsonb',
      Bytes: 'bytea',
    }
    const mapped = scalar[field.type]
    if (!mapped) throw new Error(`schema-drift does not know the Postgres type of ${field.type}; extend it`)
    base = mapped
  }
  return field.isList ? `${base}[]` : base
}

function nativeColumnType(native: string, args: readonly string[]): string {
  const withArgs = (name: string) => (args.length ? `${name}(${args.join(',')})` : name)
  switch (native) {
    case 'Uuid':
      return 'uuid'
    case 'Text':
      return 'text'
    case 'VarChar':
      return withArgs('character varying')
    case 'Char':
      return withArgs('character')
    case 'Integer':
      return 'integer'
    case 'SmallInt':
      return 'smallint'
    case 'BigInt':
      return 'bigint'
    case 'DoublePrecision':
      return 'double precision'
    case 'Real':
      return 'real'
    case 'Decimal':
      return withArgs('numeric')
    case 'Boolean':
      return 'boolean'
    case 'Timestamp':
      return `timestamp(${args[0] ?? '3'}) without time zone`
    case 'Timestamptz':
      return `timestamp(${args[0] ?? '3'}) with time zone`
    case 'Date':
      return 'date'
    case 'JsonB':
      return 'jsonb'
    case 'Json':
      return 'json'
    default:
      throw new Error(`schema-drift does not know native type @db.${native}; extend it`)
  }
}

function columnDefault(field: Field, enumNames: Map<string, string>): string | undefined {
  if (!field.hasDefaultValue || field.default === undefined) return undefined
  const value: unknown = field.default
  if (typeof value === 'object' && value !== null && 'name' in value) {
    // Generated by the Prisma client, not by the database.
    if (['uuid', 'cuid', 'nanoid', 'ulid'].includes(String(value.name))) return undefined
    if (value.name === 'now') return 'CURRENT_TIMESTAMP'
    if (value.name === 'dbgenerated' && 'args' in value && Array.isArray(value.args)) return String(value.args[0])
    throw new Error(`schema-drift does not know default ${String(value.name)}() on ${field.name}; extend it`)
  }
  if (field.kind === 'enum') return `${literal(String(value))}::${typeName(enumNames.get(field.type) ?? field.type)}`
  if (typeof value === 'string') {
    // The DMMF gives a BigInt default as its digits; Postgres shows an int4-sized one bare.
    if (field.type === 'BigInt' && /^-?\d+$/.test(value)) return Math.abs(Number(value)) <= 2 ** 31 - 1 ? value : `${literal(value)}::bigint`
    if (field.type === 'String' && !field.nativeType) return `${literal(value)}::text`
    if (field.type === 'Json') return `${literal(value)}::jsonb`
    return literal(value)
  }
  return String(value)
}

function referentialAction(action: string): string {
  const actions: Record<string, string> = {
    Cascade: 'CASCADE',
    Restrict: 'RESTRICT',
    NoAction: 'NO ACTION',
    SetNull: 'SET NULL',
    SetDefault: 'SET DEFAULT',
  }
  const sql = actions[action]
  if (!sql) throw new Error(`Unknown referential action ${action}`)
  return sql
}

function pgAction(code: string): string {
  const actions: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' }
  return actions[code] ?? `unknown(${code})`
}

/** A type name as format_type() prints it: quoted unless it is a plain lowercase identifier. */
function typeName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quote(name)
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}
