#!/usr/bin/python3
"""Write the seed corpus of the Avro fuzz target (tests/fuzz/avro/corpus/).

Needs Debian's python3-avro (apt-get install python3-avro).  The output is
deterministic (a fixed sync marker), so running this again changes nothing
unless the script changed.  Run from anywhere:

    /usr/bin/python3 tests/fuzz/avro/make_corpus.py

The fields are named after the columns of the fuzz contract (tests/fuzz/
fuzz.h): order_id, quantity, weight, paid, order_date, updated_at, amount,
balance, note.
"""

import datetime
import decimal
import io
import json
import os
import sys
import warnings

import avro.datafile
import avro.errors
import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
SYNC = b"sluice-fuzz-sync"
UTC = datetime.timezone.utc


def field(name, type_):
    return {"name": name, "type": type_}


def record(name, fields):
    return {"type": "record", "name": name, "namespace": "sluice.fuzz", "fields": fields}


DATE = {"type": "int", "logicalType": "date"}
TS_MICROS = {"type": "long", "logicalType": "timestamp-micros"}
TS_MILLIS = {"type": "long", "logicalType": "timestamp-millis"}
AMOUNT = {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}
BALANCE = {"type": "bytes", "logicalType": "decimal", "precision": 30, "scale": 4}

ORDERS = record("Order", [
    field("order_id", "string"),
    field("quantity", "long"),
    field("weight", "double"),
    field("paid", "boolean"),
    field("order_date", DATE),
    field("updated_at", TS_MICROS),
    field("amount", AMOUNT),
    field("balance", ["null", BALANCE]),
    field("note", ["null", "string"]),
])


def order(i, note=None, balance=None):
    """One complete order; i varies every value."""
    return {
        "order_id": "A-%d" % (1000 + i),
        "quantity": i * 3 - 4,
        "weight": 1.25 * i,
        "paid": i % 2 == 0,
        "order_date": datetime.date(2026, 1, 15) + datetime.timedelta(days=i),
        "updated_at": datetime.datetime(2026, 1, 15, 9, 30, i, 123456, tzinfo=UTC),
        "amount": decimal.Decimal("19.99") * i,
        "balance": balance,
        "note": note,
    }


def container(schema, records, codec="null", blocks=1, data_schema=None):
    """The bytes of an object container file.  With data_schema the header
    names schema but the records are written with data_schema, to put values
    in the file that the Python library would refuse for schema."""
    buf = io.BytesIO()
    writers_schema = avro.schema.parse(json.dumps(schema))
    w = avro.datafile.DataFileWriter(buf, avro.io.DatumWriter(), writers_schema, codec=codec)
    w.sync_marker = SYNC
    if data_schema is not None:
        w.datum_writer.writers_schema = avro.schema.parse(json.dumps(data_schema))
    per_block = max(1, (len(records) + blocks - 1) // blocks)
    for i, rec in enumerate(records):
        w.append(rec)
        if (i + 1) % per_block == 0:
            w.flush()
    w.flush()
    data = buf.getvalue()
    w.close()
    return data


def write(name, data):
    if len(data) >= 4096:
        sys.exit("%s: %d bytes, over the 4 KB seed limit" % (name, len(data)))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    # Two schemas below carry logical types the library ignores on purpose.
    warnings.filterwarnings("ignore", category=avro.errors.IgnoredLogicalType)
    os.makedirs(OUT, exist_ok=True)

    # Valid files: the plain codec, and deflate over two blocks.
    plain = container(ORDERS, [
        order(1, note="first", balance=decimal.Decimal("123456789012345678901234.5678")),
        order(2),
        order(3, note="caf\u00e9 \U0001F600", balance=decimal.Decimal("-0.0001")),
    ])
    write("orders.avro", plain)
    deflated = container(ORDERS, [order(i, note="n%d" % i) for i in range(5)],
                         codec="deflate", blocks=2)
    write("orders-deflate.avro", deflated)

    # A file cut in the middle of its only block (avro-c cannot open it), one
    # cut in its second block (the first block's records are read), and one
    # whose block ends in a wrong sync marker.
    write("truncated.avro", plain[:len(plain) - 40])
    write("truncated-deflate.avro", deflated[:len(deflated) - 30])
    write("corrupt-sync.avro", plain[:-1] + bytes([plain[-1] ^ 0xFF]))

    # Timestamps in milliseconds, decimals on fixed, a 32-bit int and a float.
    millis = record("OrderMillis", [
        field("order_id", "string"),
        field("quantity", "int"),
        field("weight", "float"),
        field("paid", "boolean"),
        field("order_date", DATE),
        field("updated_at", TS_MILLIS),
        field("amount", {"type": "fixed", "name": "Amount", "size": 8,
                         "logicalType": "decimal", "precision": 12, "scale": 2}),
        field("balance", {"type": "fixed", "name": "Balance", "size": 16,
                          "logicalType": "decimal", "precision": 30, "scale": 4}),
    ])
    rows = []
    for i in range(3):
        rec = order(i)
        rec["balance"] = decimal.Decimal("-98765432109876543210.1234") / (i + 1)
        rec["balance"] = rec["balance"].quantize(decimal.Decimal("0.0001"))
        del rec["note"]
        rows.append(rec)
    write("millis-fixed.avro", container(millis, rows))

    # Every field a union with null; nulls where the contract requires a
    # value, and a union with several branches.
    unions = record("OrderUnions", [
        field("order_id", ["null", "string"]),
        field("quantity", ["null", "long", "string"]),
        field("weight", ["null", "double"]),
        field("paid", ["null", "boolean"]),
        field("order_date", ["null", DATE, "string"]),
        field("updated_at", ["null", TS_MICROS, "string"]),
        field("amount", ["null", AMOUNT]),
        field("balance", ["null", BALANCE]),
        field("note", ["null", "string", "long", "double", "boolean"]),
    ])
    full = order(1, note="all set", balance=decimal.Decimal("1.5"))
    empty = {k: None for k in full}
    no_key = dict(full, order_id=None)
    texts = dict(full, quantity="42", order_date="2026-02-01",
                 updated_at="2026-02-01T08:00:00+02:00", note=7)
    write("unions.avro", container(unions, [full, empty, no_key, texts,
                                            dict(full, note=2.5), dict(full, note=True)]))

    # Values of other Avro types than the logical ones, to be coerced; and
    # fields the contract does not know (strict rejects, loose ignores).
    color = {"type": "enum", "name": "Channel", "symbols": ["WEB", "SHOP", "PHONE"]}
    coerce = record("OrderCoerce", [
        field("order_id", "bytes"),
        field("quantity", "double"),
        field("weight", "long"),
        field("paid", "int"),
        field("order_date", "string"),
        field("updated_at", "string"),
        field("amount", "long"),
        field("balance", "double"),
        field("note", color),
        field("channel", {"type": "enum", "name": "Channel2", "symbols": ["A", "B"]}),
        field("tags", {"type": "array", "items": "string"}),
        field("attrs", {"type": "map", "values": "long"}),
        field("address", record("Address", [field("city", "string")])),
    ])
    base = {"order_id": b"C-1", "quantity": 5.0, "weight": 3, "paid": 1,
            "order_date": "2026-01-15", "updated_at": "2026-01-15T09:30:00Z",
            "amount": 12, "balance": 0.1, "note": "SHOP", "channel": "A",
            "tags": ["x", "y"], "attrs": {"k": 1}, "address": {"city": "Oslo"}}
    write("coercions.avro", container(coerce, [
        base,
        dict(base, order_id=b"C-2", quantity=5.5, paid=2, balance=1e300),
        dict(base, order_id=b"C-\xff", weight=-7, amount=-99999999999999, note="PHONE"),
        dict(base, order_id=b"C-4", quantity=float("nan"), balance=float("inf")),
    ]))

    # A date where the contract has a timestamp and the other way round, a
    # local timestamp, and a date too far out to be a timestamp at all.
    swapped = record("OrderSwapped", [
        field("order_id", "string"),
        field("updated_at", DATE),
        field("order_date", TS_MICROS),
        field("note", {"type": "long", "logicalType": "local-timestamp-millis"}),
    ])
    swapped_raw = record("OrderSwapped", [
        field("order_id", "string"),
        field("updated_at", "int"),
        field("order_date", "long"),
        field("note", "long"),
    ])
    write("date-as-timestamp.avro", container(swapped, [
        {"order_id": "S-1", "order_date": 1768435200000000, "updated_at": 20468,
         "note": 1768435200000},
        {"order_id": "S-2", "order_date": 1768435200000000, "updated_at": 2**31 - 1,
         "note": 0},
    ], data_schema=swapped_raw))

    # Raw values at the edges, under logical types that would refuse them in
    # the Python library, one edge per record: the largest date, a decimal
    # scale beyond any column's, a decimal of 17 bytes, the smallest
    # timestamp, and milliseconds that do not fit in microseconds.
    edges = record("OrderEdges", [
        field("order_id", "string"),
        field("order_date", DATE),
        field("updated_at", TS_MILLIS),
        field("amount", AMOUNT),
        field("balance", ["null", {"type": "bytes", "logicalType": "decimal",
                                   "precision": 38, "scale": 60}]),
        field("note", ["null", TS_MICROS]),
    ])
    edges_raw = record("OrderEdges", [
        field("order_id", "string"),
        field("order_date", "int"),
        field("updated_at", "long"),
        field("amount", "bytes"),
        field("balance", ["null", "bytes"]),
        field("note", ["null", "long"]),
    ])
    good = {"order_id": "X-0", "order_date": 20468, "updated_at": 1768435200000,
            "amount": b"\x01", "balance": None, "note": None}
    write("edges.avro", container(edges, [
        good,
        dict(good, order_id="X-1", order_date=2**31 - 1),
        dict(good, order_id="X-2", balance=b"\x01"),
        dict(good, order_id="X-3", amount=b"\x7f" + b"\xff" * 16),
        dict(good, order_id="X-4", note=-2**63),
        dict(good, order_id="X-5", updated_at=2**63 // 1000 + 1),
    ], data_schema=edges_raw))

    # Enum indexes out of range (avro-c does not check them on reading): in a
    # column, in a field the contract does not know, and nested in an array.
    channel = {"type": "enum", "name": "Channel", "symbols": ["WEB", "SHOP"]}
    enums = record("OrderEnums", [
        field("order_id", "string"),
        field("updated_at", "string"),
        field("note", channel),
        field("channel", dict(channel, name="Channel2")),
        field("tags", {"type": "array", "items": dict(channel, name="Tag")}),
    ])
    enums_raw = record("OrderEnums", [
        field("order_id", "string"),
        field("updated_at", "string"),
        field("note", "int"),
        field("channel", "int"),
        field("tags", {"type": "array", "items": "int"}),
    ])
    at = "2026-01-15T00:00:00Z"
    write("enum-range.avro", container(enums, [
        {"order_id": "E-1", "updated_at": at, "note": 1, "channel": 0, "tags": [0, 1]},
        {"order_id": "E-2", "updated_at": at, "note": 1000, "channel": 0, "tags": []},
        {"order_id": "E-3", "updated_at": at, "note": 0, "channel": -5, "tags": []},
        {"order_id": "E-4", "updated_at": at, "note": 0, "channel": 1, "tags": [0, 7]},
    ], data_schema=enums_raw))

    # Strings that are not UTF-8: written as "@@" and "@@@@" and patched.
    strings = record("OrderStrings", [
        field("order_id", "string"),
        field("updated_at", "string"),
        field("note", "string"),
    ])
    data = container(strings, [
        {"order_id": "U-1", "updated_at": "2026-01-15T00:00:00Z", "note": "@@"},
        {"order_id": "U-2", "updated_at": "2026-01-15T00:00:00Z", "note": "@@@@"},
    ])
    data = data.replace(b"\x04@@", b"\x04\xc3\x28").replace(b"\x08@@@@", b"\x08\xed\xa0\x80!")
    write("invalid-utf8.avro", data)

    # A schema whose doc holds a character outside the BMP: the library
    # writes it as a \u surrogate pair, valid JSON that YAML refuses, so the
    # logical types must not depend on reading the schema as YAML.
    documented = dict(record("OrderDoc", [field("order_id", "string"),
                                          field("order_date", DATE),
                                          field("updated_at", TS_MICROS)]),
                      doc="orders \U0001F4E6")
    write("schema-doc-emoji.avro", container(documented, [
        {"order_id": "D-1", "order_date": datetime.date(2026, 1, 15),
         "updated_at": datetime.datetime(2026, 1, 15, 9, 30, tzinfo=UTC)},
    ]))

    # Not a record, and a valid file with no records at all.
    write("not-record.avro", container("long", [1, 2, 3]))
    write("empty.avro", container(ORDERS, []))


if __name__ == "__main__":
    main()
