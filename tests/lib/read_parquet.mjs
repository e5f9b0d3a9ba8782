// read_parquet.mjs - read Parquet files with hyparquet, an independent
// reader (not DuckDB), and print what they hold as JSON lines on stdout:
//
//   {"kind":"file","file":P,"num_rows":N,"row_groups":G,"codecs":[...],
//    "page_types":[...],"columns":[{"name","field_id","physical",
//    "type_length","converted","logical","precision","scale","repetition"}]}
//   {"kind":"row","file":P,"index":I,"values":{column: value, ...}}
//
// one "file" line and then one "row" line per row, for each file given.  A
// short summary per file goes to stderr.
//
// A file whose columns are exactly file_path and pos is a deletion file
// (merge-on-read, an Iceberg v2 position delete file): it retires row pos
// of the data file whose file:// URI is file_path (in deletion files of
// older releases: its store key, the path relative to the lake).
// Deletion files are read first and printed as
//
//   {"kind":"deletes","file":P,"num_rows":N,"targets":{file_path: count}}
//
// and each row of a data file they name carries "deleted":true.  A reader
// of the curated zone that skips this step sees superseded rows too.
//
// Values come out exactly, never through a JavaScript number that could
// round them:
//   string     the text (invalid UTF-8 is an error, not a replacement char)
//   int64      decimal text of the BigInt
//   double     the shortest text that reads back as the same double, with
//              "-0.0" for negative zero
//   bool       true / false
//   date       YYYY-MM-DD
//   timestamp  YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC, always six digits)
//   decimal    exact text with exactly <scale> fraction digits
//   NULL       null
//
// hyparquet turns decimals into JavaScript numbers (losing digits beyond
// 2^53) and timestamps into Dates (losing microseconds).  Timestamps and
// dates go through our own parsers; decimals are read with their DECIMAL
// annotation taken off a copy of the metadata, so hyparquet hands over the
// stored integers (BigInt, number or big-endian two's complement bytes)
// and we scale them here with the precision and scale of the real schema.
//
// usage: node read_parquet.mjs FILE.parquet...
// Needs hyparquet and hyparquet-compressors: from NODE_MODULES, or else
// $SLUICE_SRC/build/deps/node/node_modules.

import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const modules = process.env.NODE_MODULES ||
  join(process.env.SLUICE_SRC || resolve(new URL('.', import.meta.url).pathname, '../..'),
    'build/deps/node/node_modules')
const load = (rel) => import(pathToFileURL(join(modules, rel)).href)
const hyparquet = await load('hyparquet/src/index.js')
const { compressors } = await load('hyparquet-compressors/src/index.js')
const { deserializeTCompactProtocol } = await load('hyparquet/src/thrift.js')

const USEC_PER_DAY = 86400000000n
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function pad(n, width) {
  return String(n).padStart(width, '0')
}

// Days since 1970-01-01 to YYYY-MM-DD (proleptic Gregorian; Date.UTC is).
function dayText(days) {
  const d = new Date(Number(days) * 86400000)
  if (Number.isNaN(d.getTime())) throw new Error(`date out of range: ${days} days`)
  const y = d.getUTCFullYear()
  if (y < 1 || y > 9999) throw new Error(`date out of range: year ${y}`)
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
}

// Microseconds since the epoch (BigInt) to ISO 8601 UTC with six digits.
function microsText(us) {
  if (typeof us !== 'bigint') us = BigInt(us)
  let day = us / USEC_PER_DAY
  let rem = us % USEC_PER_DAY
  if (rem < 0n) { // BigInt division truncates toward zero: floor it
    day -= 1n
    rem += USEC_PER_DAY
  }
  const secs = rem / 1000000n
  const frac = rem % 1000000n
  const hh = secs / 3600n, mm = (secs / 60n) % 60n, ss = secs % 60n
  return `${dayText(day)}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.${pad(frac, 6)}Z`
}

// A stored decimal (before scaling) as a BigInt.
function unscaled(v) {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`decimal stored as non-integer ${v}`)
    return BigInt(v)
  }
  if (v instanceof Uint8Array) { // big-endian two's complement
    if (v.length === 0) return 0n
    let x = 0n
    for (const b of v) x = (x << 8n) | BigInt(b)
    if (v[0] & 0x80) x -= 1n << BigInt(8 * v.length)
    return x
  }
  throw new Error(`unexpected stored decimal ${typeof v}`)
}

function decimalText(v, scale) {
  const x = unscaled(v)
  const neg = x < 0n
  let digits = (neg ? -x : x).toString()
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0')
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`
  }
  return (neg ? '-' : '') + digits
}

function doubleText(v) {
  if (typeof v !== 'number') throw new Error(`double is ${typeof v}`)
  if (Object.is(v, -0)) return '-0.0'
  if (!Number.isFinite(v)) return String(v) // NaN, Infinity: the checker rejects them
  return String(v) // shortest round-trip text (ECMAScript Number::toString)
}

function isDecimal(el) {
  return el.converted_type === 'DECIMAL' || el.logical_type?.type === 'DECIMAL'
}

// How to turn one column's values to text, from its (real) schema element.
function converter(el) {
  if (isDecimal(el)) {
    const scale = el.logical_type?.scale ?? el.scale ?? 0
    return (v) => decimalText(v, scale)
  }
  const lt = el.logical_type?.type
  const ct = el.converted_type
  if (ct === 'TIMESTAMP_MICROS' || ct === 'TIMESTAMP_MILLIS' || lt === 'TIMESTAMP' ||
      ct === 'DATE' || lt === 'DATE' || ct === 'UTF8' || lt === 'STRING') {
    return (v) => v // already text, by our parsers below
  }
  switch (el.type) {
    case 'INT64': return (v) => BigInt(v).toString()
    case 'INT32': return (v) => String(v)
    case 'DOUBLE':
    case 'FLOAT': return doubleText
    case 'BOOLEAN': return (v) => {
      if (typeof v !== 'boolean') throw new Error(`boolean is ${typeof v}`)
      return v
    }
    case 'BYTE_ARRAY': return (v) => v
    default: throw new Error(`column ${el.name}: unhandled physical type ${el.type}`)
  }
}

const parsers = {
  timestampFromMicroseconds: (us) => microsText(us),
  timestampFromMilliseconds: (ms) => microsText(BigInt(ms) * 1000n),
  timestampFromNanoseconds: (ns) => {
    throw new Error(`nanosecond timestamp ${ns}: sluice writes microseconds`)
  },
  dateFromDays: (days) => dayText(days),
  stringFromBytes: (bytes) => bytes && strictUtf8.decode(bytes),
}

const PAGE_TYPES = ['DATA_PAGE', 'INDEX_PAGE', 'DICTIONARY_PAGE', 'DATA_PAGE_V2']

// Walk the page headers of every column chunk: the kinds of pages written.
function pageTypes(buf, metadata) {
  const view = new DataView(buf)
  const seen = new Set()
  for (const rg of metadata.row_groups) {
    for (const col of rg.columns) {
      const md = col.meta_data
      // The chunk starts at its dictionary page if it has one (an offset
      // of 0 is what some writers put for none).
      const dict = Number(md.dictionary_page_offset ?? 0)
      const data = Number(md.data_page_offset)
      let off = dict > 0 && dict < data ? dict : data
      const end = off + Number(md.total_compressed_size)
      while (off < end) {
        const reader = { view, offset: off }
        const h = deserializeTCompactProtocol(reader)
        seen.add(PAGE_TYPES[h.field_1] ?? `type ${h.field_1}`)
        off = reader.offset + h.field_3 // header, then compressed_page_size bytes
      }
      if (off !== end) throw new Error(`column chunk ${md.path_in_schema} pages overrun`)
    }
  }
  return [...seen].sort()
}

function jsonLine(obj) {
  return JSON.stringify(obj, (k, v) => (typeof v === 'bigint' ? v.toString() : v))
}

function loadFile(path) {
  const b = readFileSync(path)
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)
  return { buf, metadata: hyparquet.parquetMetadata(buf) }
}

function isDeletionFile(metadata) {
  const names = metadata.schema.slice(1).map((el) => el.name)
  return names.length === 2 && names[0] === 'file_path' && names[1] === 'pos'
}

// Deleted positions by data file key: Map(file_path -> Set(pos)).
const deleted = new Map()

async function readDeletes(path, buf, metadata) {
  const rows = await hyparquet.parquetReadObjects({
    file: buf, metadata, compressors, rowFormat: 'object',
  })
  const targets = {}
  for (const row of rows) {
    const key = row.file_path
    const pos = Number(row.pos)
    if (!deleted.has(key)) deleted.set(key, new Set())
    if (deleted.get(key).has(pos)) throw new Error(`${path}: ${key} row ${pos} deleted twice`)
    deleted.get(key).add(pos)
    targets[key] = (targets[key] ?? 0) + 1
  }
  process.stdout.write(jsonLine({
    kind: 'deletes', file: path, num_rows: Number(metadata.num_rows), targets,
  }) + '\n')
  process.stderr.write(`${path}: deletion file, ${rows.length} positions in ` +
    `${Object.keys(targets).length} file(s)\n`)
}

// The deleted positions of the data file at path, if any.
function deletedOf(path) {
  const abs = resolve(path)
  for (const [key, set] of deleted) {
    if (key.startsWith('file://')) {
      if (abs === key.slice('file://'.length)) return set
    } else if (path === key || path.endsWith('/' + key)) {
      return set
    }
  }
  return new Set()
}

async function readOne(path, buf, metadata) {
  const gone = deletedOf(path)
  const leaves = metadata.schema.slice(1)
  for (const el of leaves) {
    if (el.num_children) throw new Error(`${path}: nested column ${el.name}`)
  }
  const columns = leaves.map((el) => ({
    name: el.name,
    field_id: el.field_id ?? null,
    physical: el.type,
    type_length: el.type_length ?? null,
    converted: el.converted_type ?? null,
    logical: el.logical_type ?? null,
    precision: el.precision ?? null,
    scale: el.scale ?? null,
    repetition: el.repetition_type,
  }))
  const codecs = [...new Set(metadata.row_groups.flatMap(
    (rg) => rg.columns.map((c) => c.meta_data.codec)))].sort()
  const info = {
    kind: 'file',
    file: path,
    num_rows: Number(metadata.num_rows),
    row_groups: metadata.row_groups.length,
    codecs,
    page_types: pageTypes(buf, metadata),
    columns,
  }
  process.stdout.write(jsonLine(info) + '\n')

  // Read every row and column; decimals with their annotation taken off.
  const plain = structuredClone(metadata)
  for (const el of plain.schema) {
    if (isDecimal(el)) {
      delete el.converted_type
      delete el.logical_type
    }
  }
  const rows = await hyparquet.parquetReadObjects({
    file: buf, metadata: plain, compressors, parsers, rowFormat: 'object',
  })
  if (rows.length !== info.num_rows) {
    throw new Error(`${path}: read ${rows.length} rows, metadata says ${info.num_rows}`)
  }
  const conv = leaves.map(converter)
  rows.forEach((row, i) => {
    const values = {}
    leaves.forEach((el, k) => {
      const v = row[el.name]
      values[el.name] = v === null || v === undefined ? null : conv[k](v)
    })
    const line = { kind: 'row', file: path, index: i, values }
    if (gone.has(i)) line.deleted = true
    process.stdout.write(jsonLine(line) + '\n')
  })
  const ids = columns.map((c) => `${c.name}=${c.field_id}`).join(' ')
  process.stderr.write(`${path}: ${rows.length} rows, ${metadata.row_groups.length} row ` +
    `group(s), ${columns.length} columns, ${codecs.join('/')}, ` +
    `pages ${info.page_types.join('/')}; field ids ${ids}\n`)
}

const files = process.argv.slice(2)
if (files.length === 0) {
  process.stderr.write('usage: node read_parquet.mjs FILE.parquet...\n')
  process.exit(2)
}
const loaded = []
for (const f of files) {
  try {
    const { buf, metadata } = loadFile(f)
    if (isDeletionFile(metadata)) await readDeletes(f, buf, metadata)
    else loaded.push([f, buf, metadata])
  } catch (e) {
    process.stderr.write(`read_parquet: ${f}: ${e.stack || e}\n`)
    process.exit(1)
  }
}
for (const [f, buf, metadata] of loaded) {
  try {
    await readOne(f, buf, metadata)
  } catch (e) {
    process.stderr.write(`read_parquet: ${f}: ${e.stack || e}\n`)
    process.exit(1)
  }
}
