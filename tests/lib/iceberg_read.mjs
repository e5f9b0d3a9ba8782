// iceberg_read.mjs - read an Apache Iceberg table with icebird, a reader
// that is not sluice and not DuckDB, and print its live rows, so the tests
// can check what sluice writes against what an independent reader sees.
//
//   node iceberg_read.mjs METADATA_JSON_PATH            one line per row:
//       {"row": {"col": value, ...}}                    (schema order)
//   node iceberg_read.mjs METADATA_JSON_PATH --count    one line:
//       {"rows": N, "data_files": F, "delete_files": D}
//
// METADATA_JSON_PATH is a local path <location>/metadata/<name>.metadata.json
// of a table whose `location` and every path inside its metadata, manifest
// lists and manifests are file:// URIs.  icebird reads the current snapshot
// and applies its position deletes (and equality deletes) itself; this
// script only serves it the files and prints the rows.  A one-line summary
// goes to stderr; any error exits non-zero with a message.
//
// Serving file:// URLs: icebird and its hyparquet fetch everything with the
// global fetch, which in Node 20 refuses file:// URLs.  globalThis.fetch is
// wrapped: a file:// URL is served from disk - GET of the whole file (the
// metadata JSON, Avro manifests), HEAD with content-length (hyparquet's
// byteLengthFromUrl, when no size is known) and GET with "Range: bytes=a-b"
// or "bytes=a-" answered 206 with that slice (hyparquet's
// asyncBufferFromUrl, for Parquet footers and column chunks); other URLs go
// to the real fetch.  A missing file rejects, as a network error does.
//
// Values, normalised by the column's Iceberg type so they can be compared
// with DuckDB's JSON output (iceberg_compare.py):
//   long                  decimal text of the BigInt ("9007199254740993")
//   int, float, double    JSON numbers; NaN / Infinity / -Infinity as those
//                         strings (JSON has no such numbers); -0 prints as 0
//   boolean               true / false
//   decimal(P,S)          exact text with S fraction digits ("12.50")
//   date                  YYYY-MM-DD
//   time                  HH:MM:SS.ffffff
//   timestamptz           YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC, six digits)
//   timestamp             YYYY-MM-DDTHH:MM:SS.ffffff (wall clock, no zone)
//   string                the text
//   uuid                  8-4-4-4-12 lower-case hex
//   fixed[L], binary      lower-case hex of the bytes
//   NULL (or a column missing from a file)   null
//   list / map / struct   JSON arrays / objects of the above, generically
//
// Exactness through icebird.  icebird calls hyparquet without parsers, and
// hyparquet's defaults turn timestamps into Dates (milliseconds: the
// microseconds are lost) and dates into Dates.  icebird cannot be given
// parsers, but hyparquet merges its exported DEFAULT_PARSERS into the
// options at every read, so this script replaces the timestamp and date
// entries of the DEFAULT_PARSERS of the very hyparquet copy icebird
// imports: they hand over the stored integers (micros, days) untouched, and
// the text is made here.  Timestamps and dates are therefore exact.  If the
// replacement is not in effect (a Date reaches us), the script fails rather
// than print rounded values.  What remains lossy in icebird (0.3.1, with
// hyparquet 1.19.0), and how it is handled:
//   - decimals: hyparquet returns Number(unscaled) * 10^-S, a double.  The
//     unscaled integer is recovered exactly while |unscaled| < 2^50 (about
//     1.1e15: every DECIMAL(15,S), and larger precisions' smaller values);
//     the recovery is checked by redoing hyparquet's arithmetic.  A value
//     beyond that is an error, not a guess.
//   - binary: hyparquet decodes un-annotated BYTE_ARRAY as UTF-8 text.  The
//     bytes are recovered by re-encoding when the text has no U+FFFD; a
//     value with U+FFFD (bytes that were not UTF-8, or a real U+FFFD) is an
//     error.
//   - strings: decoded leniently by hyparquet (invalid UTF-8 becomes
//     U+FFFD); not checked here.
//   - equality deletes match with !== in icebird, so on date, timestamp,
//     decimal-as-bytes or binary columns they never match; sluice writes
//     position deletes, which are applied exactly (by file_path string and
//     BigInt pos).
//   - snapshot ids (63-bit) are parsed from the metadata JSON as doubles;
//     icebird compares them rounded on both sides, which picks the right
//     snapshot unless two ids round alike (never seen with random ids).
//   - icebird reads record_count rows of each data file, trusting the
//     manifest; this script checks record_count against the file's own
//     row count, and file_size_in_bytes against the file on disk.
//
// Needs icebird (tests/lib/package.json; scripts/setup.sh test): from
// NODE_MODULES, or else $SLUICE_SRC/build/deps/node/node_modules.

import { existsSync, promises as fsp, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const modules = process.env.NODE_MODULES ||
  join(process.env.SLUICE_SRC || resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
    'build/deps/node/node_modules')

function die(msg) {
  process.stderr.write(`iceberg_read: ${msg}\n`)
  process.exit(1)
}

// ---- fetch for file:// URLs ---------------------------------------------

const realFetch = globalThis.fetch
const served = new Map() // file URL -> number of requests

async function fileFetch(input, init = {}) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  if (!url.startsWith('file:')) return realFetch(input, init)
  const method = (init.method || (typeof input === 'object' && input.method) || 'GET').toUpperCase()
  const headers = new Headers(init.headers || (typeof input === 'object' ? input.headers : undefined))
  const path = fileURLToPath(url)
  let size
  try {
    const st = await fsp.stat(path)
    if (!st.isFile()) throw new Error('not a regular file')
    size = st.size
  } catch (e) {
    throw new TypeError(`fetch ${url}: ${e.message}`)
  }
  served.set(url, (served.get(url) || 0) + 1)
  if (method === 'HEAD') {
    return new Response(null, { status: 200, headers: { 'content-length': String(size) } })
  }
  if (method !== 'GET') throw new TypeError(`fetch ${url}: method ${method} on a file`)
  const range = headers.get('range')
  if (range === null) {
    const body = await fsp.readFile(path)
    return new Response(body, { status: 200, headers: { 'content-length': String(size) } })
  }
  // bytes=a-b (inclusive), bytes=a- (to the end), bytes=-n (the last n)
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim())
  if (!m || (m[1] === '' && m[2] === '')) throw new TypeError(`fetch ${url}: bad range ${range}`)
  let start, end // end exclusive
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]))
    end = size
  } else {
    start = Number(m[1])
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1)
  }
  if (start > size || end < start) {
    return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } })
  }
  const body = new Uint8Array(end - start)
  const fh = await fsp.open(path, 'r')
  try {
    let got = 0
    while (got < body.length) {
      const { bytesRead } = await fh.read(body, got, body.length - got, start + got)
      if (bytesRead === 0) throw new TypeError(`fetch ${url}: file shrank while reading`)
      got += bytesRead
    }
  } finally {
    await fh.close()
  }
  return new Response(body, {
    status: 206,
    headers: {
      'content-length': String(body.length),
      'content-range': `bytes ${start}-${end - 1}/${size}`,
    },
  })
}
globalThis.fetch = fileFetch

// ---- icebird and the hyparquet it imports --------------------------------

const icebirdDir = join(modules, 'icebird')
if (!existsSync(join(icebirdDir, 'package.json'))) {
  die(`icebird is not in ${modules}: run scripts/setup.sh test`)
}
// Node resolves icebird's "hyparquet" to its own nested copy first, then
// to the hoisted one; the same file is the same module instance.
const hyparquetDir = [join(icebirdDir, 'node_modules/hyparquet'), join(modules, 'hyparquet')]
  .find((d) => existsSync(join(d, 'src/convert.js')))
if (!hyparquetDir) die('cannot find the hyparquet that icebird uses')
const load = (p) => import(pathToFileURL(p).href)
const icebird = await load(join(icebirdDir, 'src/index.js'))
const { splitManifestEntries } = await load(join(icebirdDir, 'src/manifest.js'))
const { DEFAULT_PARSERS } = await load(join(hyparquetDir, 'src/convert.js'))
const hyparquet = await load(join(hyparquetDir, 'src/index.js'))

// Exact instants and days instead of Dates (see the header).
class Instant {
  constructor(nanos) { this.nanos = nanos }
}
class Days {
  constructor(days) { this.days = days }
}
DEFAULT_PARSERS.timestampFromMilliseconds = (v) => new Instant(BigInt(v) * 1000000n)
DEFAULT_PARSERS.timestampFromMicroseconds = (v) => new Instant(BigInt(v) * 1000n)
DEFAULT_PARSERS.timestampFromNanoseconds = (v) => new Instant(BigInt(v))
DEFAULT_PARSERS.dateFromDays = (v) => new Days(Number(v))

// ---- value text ------------------------------------------------------------

const pad = (n, w) => String(n).padStart(w, '0')

function dayText(days) {
  const d = new Date(days * 86400000)
  if (Number.isNaN(d.getTime())) throw new Error(`date out of range: ${days} days`)
  const y = d.getUTCFullYear()
  if (y < 0 || y > 9999) throw new Error(`date out of range: year ${y}`)
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
}

const NS_PER_DAY = 86400n * 1000000000n

// Time of day from nanoseconds since midnight: HH:MM:SS.ffffff (nine
// digits only when there are nanoseconds).
function clockText(ns) {
  const secs = ns / 1000000000n
  const frac = ns % 1000000000n
  const f = frac % 1000n === 0n ? pad(frac / 1000n, 6) : pad(frac, 9)
  return `${pad(secs / 3600n, 2)}:${pad((secs / 60n) % 60n, 2)}:${pad(secs % 60n, 2)}.${f}`
}

function instantText(ns, zone) {
  let day = ns / NS_PER_DAY
  let rem = ns % NS_PER_DAY
  if (rem < 0n) { // BigInt division truncates toward zero: floor it
    day -= 1n
    rem += NS_PER_DAY
  }
  return `${dayText(Number(day))}T${clockText(rem)}${zone ? 'Z' : ''}`
}

const hex = (bytes) => Array.from(bytes, (b) => pad(b.toString(16), 2)).join('')

function numberValue(v) {
  if (typeof v === 'bigint') return v.toString()
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  return v
}

// The exact unscaled integer behind hyparquet's Number(unscaled) * 10^-S.
function decimalText(v, scale, where) {
  let u
  if (typeof v === 'bigint') {
    u = v
  } else {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: decimal is ${v}`)
    const r = Math.round(v * 10 ** scale)
    if (Math.abs(r) >= 2 ** 50 || r * 10 ** -scale !== v) {
      throw new Error(`${where}: decimal ${v} is beyond what icebird returns exactly ` +
        '(|unscaled| >= 2^50)')
    }
    u = BigInt(r)
  }
  const neg = u < 0n
  let digits = (neg ? -u : u).toString()
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0')
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  }
  return (neg ? '-' : '') + digits
}

const utf8 = new TextEncoder()

function bytesOf(v, where) {
  if (v instanceof Uint8Array) return v
  if (typeof v === 'string') {
    if (v.includes('\uFFFD')) {
      throw new Error(`${where}: binary value was decoded as text with U+FFFD: ` +
        'icebird cannot return its bytes exactly')
    }
    return utf8.encode(v)
  }
  throw new Error(`${where}: binary value is ${typeof v}`)
}

// Any value, without its Iceberg type (nested values).
function generic(v, where) {
  if (v === null || v === undefined) return null
  if (v instanceof Instant) return instantText(v.nanos, true)
  if (v instanceof Days) return dayText(v.days)
  if (v instanceof Date) throw new Error(`${where}: a Date reached the output (exact parsers not in effect)`)
  if (v instanceof Uint8Array) return hex(v)
  if (typeof v === 'bigint' || typeof v === 'number') return numberValue(v)
  if (Array.isArray(v)) return v.map((x, i) => generic(x, `${where}[${i}]`))
  if (typeof v === 'object') {
    const out = {}
    for (const [k, x] of Object.entries(v)) out[k] = generic(x, `${where}.${k}`)
    return out
  }
  return v
}

// A converter for one column from its Iceberg type.
function converter(type, name) {
  if (typeof type !== 'string') return (v) => generic(v, name)
  const dec = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type)
  if (dec) {
    const scale = Number(dec[2])
    return (v) => decimalText(v, scale, name)
  }
  if (/^fixed\[\d+\]$/.test(type) || type === 'binary') return (v) => hex(bytesOf(v, name))
  switch (type) {
    case 'long':
      return (v) => {
        if (typeof v !== 'bigint' && !Number.isInteger(v)) throw new Error(`${name}: long is ${v}`)
        return BigInt(v).toString()
      }
    case 'int':
    case 'float':
    case 'double':
      return (v) => {
        if (typeof v !== 'number') throw new Error(`${name}: ${type} is ${typeof v}`)
        return numberValue(v)
      }
    case 'boolean':
      return (v) => {
        if (typeof v !== 'boolean') throw new Error(`${name}: boolean is ${typeof v}`)
        return v
      }
    case 'string':
      return (v) => {
        if (typeof v !== 'string') throw new Error(`${name}: string is ${typeof v}`)
        return v
      }
    case 'date':
      return (v) => {
        if (!(v instanceof Days)) throw new Error(`${name}: date is not exact (${v})`)
        return dayText(v.days)
      }
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns':
      return (v) => {
        if (!(v instanceof Instant)) throw new Error(`${name}: timestamp is not exact (${v})`)
        return instantText(v.nanos, type.startsWith('timestamptz'))
      }
    case 'time':
      return (v) => {
        if (typeof v !== 'bigint' && !Number.isInteger(v)) throw new Error(`${name}: time is ${v}`)
        return clockText(BigInt(v) * 1000n)
      }
    case 'uuid':
      return (v) => {
        const h = hex(bytesOf(v, name))
        if (h.length !== 32) throw new Error(`${name}: uuid of ${h.length / 2} bytes`)
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
      }
    default:
      return (v) => generic(v, name)
  }
}

// ---- main ------------------------------------------------------------------

const args = process.argv.slice(2)
const count = args.includes('--count')
const paths = args.filter((a) => a !== '--count')
if (paths.length !== 1 || paths[0].startsWith('--')) {
  process.stderr.write('usage: node iceberg_read.mjs METADATA_JSON_PATH [--count]\n')
  process.exit(2)
}

try {
  const metaPath = resolve(paths[0])
  if (!statSync(metaPath).isFile()) throw new Error(`${metaPath}: not a file`)
  const metaDir = dirname(metaPath)
  if (basename(metaDir) !== 'metadata') {
    throw new Error(`${metaPath}: the metadata file is not in <location>/metadata/`)
  }
  const tableDir = dirname(metaDir)
  const tableUrl = pathToFileURL(tableDir).href.replace(/\/+$/, '')
  const metadataFileName = basename(metaPath)

  const metadata = await icebird.icebergMetadata({ tableUrl, metadataFileName })
  const loc = metadata.location
  if (typeof loc !== 'string' || !loc.startsWith('file:')) {
    throw new Error(`table location ${loc} is not a file:// URI`)
  }
  if (resolve(fileURLToPath(loc)) !== tableDir) {
    throw new Error(`table location ${loc} is not the folder above the metadata file (${tableDir})`)
  }
  if (metadata['format-version'] !== 2) {
    throw new Error(`format-version ${metadata['format-version']}, want 2`)
  }
  // JSON.parse rounds 63-bit snapshot ids to doubles (icebird matches
  // them rounded on both sides); the summary shows the exact text.
  const snapshotId = metadata['current-snapshot-id']
  const exactId = /"current-snapshot-id"\s*:\s*(-?\d+)/.exec(
    await fsp.readFile(metaPath, 'utf8'))?.[1] ?? snapshotId
  const snapshot = metadata.snapshots?.find((s) => s['snapshot-id'] === snapshotId)

  // The live files of the current snapshot, as icebird itself lists them.
  const manifests = await icebird.icebergManifests(metadata)
  const { dataEntries, deleteEntries } = splitManifestEntries(manifests)
  let dataRows = 0
  for (const { data_file: f } of [...dataEntries, ...deleteEntries]) {
    if (f.file_path.startsWith('file:')) {
      const size = statSync(fileURLToPath(f.file_path)).size
      if (BigInt(size) !== BigInt(f.file_size_in_bytes)) {
        throw new Error(`${f.file_path}: ${size} bytes on disk, manifest says ${f.file_size_in_bytes}`)
      }
    }
    const file = await hyparquet.asyncBufferFromUrl({
      url: f.file_path, byteLength: Number(f.file_size_in_bytes),
    })
    const pm = await hyparquet.parquetMetadataAsync(file)
    if (BigInt(pm.num_rows) !== BigInt(f.record_count)) {
      throw new Error(`${f.file_path}: ${pm.num_rows} rows in the file, manifest says ${f.record_count}`)
    }
    if (!f.content) dataRows += Number(f.record_count)
  }
  const posDeleteFiles = deleteEntries.filter((e) => e.data_file.content === 1)
  const posDeletes = posDeleteFiles.reduce((n, e) => n + Number(e.data_file.record_count), 0)
  const eqDeleteFiles = deleteEntries.length - posDeleteFiles.length

  const rows = await icebird.icebergRead({ tableUrl, metadata })

  if (count) {
    process.stdout.write(JSON.stringify({
      rows: rows.length, data_files: dataEntries.length, delete_files: deleteEntries.length,
    }) + '\n')
  } else {
    const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])
    const conv = schema.fields.map((f) => [f.name, converter(f.type, f.name)])
    const lines = []
    rows.forEach((row, i) => {
      const out = {}
      for (const [name, c] of conv) {
        const v = row[name]
        out[name] = v === null || v === undefined ? null : c(v)
      }
      lines.push(JSON.stringify({ row: out }))
      if (i % 1000 === 999 || i === rows.length - 1) {
        process.stdout.write(lines.join('\n') + '\n')
        lines.length = 0
      }
    })
  }
  process.stderr.write(`iceberg_read: snapshot ${exactId} (sequence ` +
    `${snapshot?.['sequence-number']}): ${dataEntries.length} data file(s) of ${dataRows} rows, ` +
    `${posDeleteFiles.length} position delete file(s) of ${posDeletes} positions, ` +
    `${eqDeleteFiles} equality delete file(s); ${rows.length} rows read, ` +
    `${dataRows - rows.length} removed by deletes; ${served.size} files served\n`)
} catch (e) {
  die(e.stack || String(e))
}
