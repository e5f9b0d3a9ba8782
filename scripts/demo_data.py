#!/usr/bin/python3
"""demo_data.py OUTDIR - the data set that `make demo` sends through sluice.

From a fixed seed (the same bytes on every run) it writes what three systems
of a small European web shop hand over:

  crm/customers_2025-03-14.csv     the CRM's export of every customer
  crm/customers_2025-03-15.csv     the next day's export: changed customers,
                                   rows re-sent unchanged, new sign-ups
  erp/orders_2025-03-01_07.jsonl.gz  the ERP's order events of week one
  erp/orders_2025-03-08_14.jsonl.gz  week two; opens by re-sending the tail
                                   of week one (at-least-once delivery)
  erp/orders_2025-03-15.jsonl.gz   the next delivery: the night's events and
                                   the ones a stuck outbox held back
  wms/shipments_2025-03-13_14.avro the warehouse's shipments (Avro, deflate)
  expected.txt                     what a correct pipeline ends with

Every file holds a few broken records of the kinds real feeds have.  An
order event carries the whole order as it stands, with ordered_at set to
the time of the event, so the latest event of an order is its state.

Standard library only, plus Debian's python3-avro for the Avro file.
"""
import csv
import datetime as dt
import decimal
import gzip
import io
import itertools
import json
import os
import random
import sys
import unicodedata

import avro.datafile
import avro.io
import avro.schema

SEED = 20250314
UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

FIRST_DAY = dt.datetime(2025, 3, 1, tzinfo=UTC)   # first day of orders
WEEK_TWO = FIRST_DAY + 7 * DAY                    # 2025-03-08
CUT = FIRST_DAY + 14 * DAY                        # 2025-03-15 00:00
LATE_CUT = CUT + 6 * HOUR                         # the late delivery is cut then

CUSTOMERS = 3000
CENT = decimal.Decimal("0.01")

# Given names and family names by region, with the countries they live in.
# "family_first" regions write the family name first.
REGIONS = [
    ("en", 22, ["GB", "IE", "US", "US", "CA"], False,
     ["James", "Olivia", "Amelia", "Harry", "Grace", "Oliver", "Noah", "Isla",
      "Siobhán", "Seán", "Chloë", "Renée"],
     ["Smith", "Jones", "Taylor", "O'Brien", "Walsh", "Murphy", "Evans",
      "Brown", "Wilson", "Ní Bhriain"]),
    ("de", 16, ["DE", "DE", "AT", "CH"], False,
     ["Jürgen", "Jörg", "Lena", "Günther", "Anja", "Maximilian", "Bärbel",
      "Lukas", "Sophie", "Björn"],
     ["Müller", "Schröder", "Weiß", "Groß", "Köhler", "Bauer", "Hoffmann",
      "Schäfer", "Krüger", "Zimmermann"]),
    ("fr", 13, ["FR", "FR", "BE", "CA"], False,
     ["Zoé", "Hélène", "François", "Loïc", "Amélie", "Gaël", "Élodie",
      "Jérôme", "Cécile", "Théo"],
     ["Lefèvre", "Dubois", "Mercier", "Girard", "Bérubé", "Rousseau",
      "Leroy", "Fontaine", "Chevalier", "Gauthier"]),
    ("es", 12, ["ES", "ES", "MX", "AR"], False,
     ["José", "María", "Iñaki", "Lucía", "Sofía", "Andrés", "Begoña",
      "Raúl", "Inés", "Joaquín"],
     ["García", "Muñoz", "Peña", "Ibáñez", "López", "Fernández", "Sánchez",
      "Martínez", "Núñez", "Gómez"]),
    ("nordic", 11, ["SE", "SE", "DK", "NO", "IS"], False,
     ["Søren", "Åsa", "Björn", "Sigríður", "Jóhann", "Märta", "Øystein",
      "Ingrid", "Kåre", "Freyja"],
     ["Jørgensen", "Ólafsdóttir", "Åkesson", "Lindqvist", "Nyström",
      "Halvorsen", "Þórsson", "Bøe", "Sjöberg", "Dahl"]),
    ("central", 10, ["PL", "PL", "CZ"], False,
     ["Łukasz", "Małgorzata", "Jiří", "Zuzana", "Paweł", "Tomáš",
      "Agnieszka", "Kateřina", "Grzegorz", "Ondřej"],
     ["Wójcik", "Dvořák", "Kowalczyk", "Nováková", "Lewandowski", "Černý",
      "Wiśniewski", "Procházka", "Zieliński", "Svoboda"]),
    ("vi", 5, ["VN", "DE", "FR"], True,
     ["Thảo", "Minh", "Hương", "Đức", "Lan", "Quang"],
     ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"]),
    ("ja", 4, ["JP"], True,
     ["花子", "太郎", "陽菜", "蓮", "美咲", "大翔"],
     ["佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤"]),
    ("el", 4, ["GR", "CY"], False,
     ["Γιώργος", "Μαρία", "Ελένη", "Νίκος"],
     ["Παπαδόπουλος", "Οικονόμου", "Γεωργίου", "Κωνσταντίνου"]),
]

# Latin letters that Unicode does not decompose, and the CJK and Greek names,
# spelt in ASCII for e-mail addresses.
ASCII_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss",
                               "đ": "d", "Đ": "D", "æ": "ae", "Æ": "AE", "ð": "d",
                               "þ": "th", "Þ": "Th"})
ROMAJI = {"花子": "hanako", "太郎": "taro", "陽菜": "hina", "蓮": "ren",
          "美咲": "misaki", "大翔": "hiroto", "佐藤": "sato", "鈴木": "suzuki",
          "高橋": "takahashi", "田中": "tanaka", "渡辺": "watanabe", "伊藤": "ito",
          "Γιώργος": "giorgos", "Μαρία": "maria", "Ελένη": "eleni", "Νίκος": "nikos",
          "Παπαδόπουλος": "papadopoulos", "Οικονόμου": "oikonomou",
          "Γεωργίου": "georgiou", "Κωνσταντίνου": "konstantinou"}
MAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com",
                "post.example.net"]

# The shop charges in four currencies; prices are per unit, in euros.
CURRENCY = {"GB": "GBP", "US": "USD", "CA": "USD", "MX": "USD", "AR": "USD",
            "SE": "SEK"}
EUR_TO = {"EUR": decimal.Decimal("1"), "GBP": decimal.Decimal("0.84"),
          "USD": decimal.Decimal("1.09"), "SEK": decimal.Decimal("11.20")}
PRICES = [decimal.Decimal(p) for p in
          ("4.95", "9.90", "14.50", "19.95", "24.50", "39.00", "49.00", "79.90",
           "129.00", "249.00")]
PRICE_WEIGHTS = [8, 14, 12, 14, 10, 9, 8, 6, 4, 2]
ORDER_HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 6, 7, 7, 8, 8, 7, 7, 7, 8, 9, 10, 11, 11, 9, 5, 2]
CARRIERS = {"GB": ["Royal Mail", "DPD"], "SE": ["PostNord"], "DK": ["PostNord", "GLS"],
            "NO": ["PostNord"], "FR": ["La Poste", "DPD"], "DE": ["DHL", "Hermes"],
            "AT": ["DHL", "GLS"]}
DEFAULT_CARRIERS = ["DHL", "UPS", "FedEx"]


def ascii_word(s):
    """An ASCII spelling of a name part, for an e-mail address."""
    if s in ROMAJI:
        return ROMAJI[s]
    s = unicodedata.normalize("NFKD", s.translate(ASCII_LETTERS))
    return "".join(c for c in s if c.isascii() and c.isalnum()).lower()


def iso_seconds(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def num(n):
    return "{:,}".format(n)


# ---- customers -------------------------------------------------------------------

CUSTOMER_HEADER = ["customer_id", "name", "email", "country", "signup_date",
                   "lifetime_value", "is_active", "updated_at"]


def make_customer(rng, n, signup_from, signup_to, updated_to):
    region = rng.choices(REGIONS, weights=[r[1] for r in REGIONS])[0]
    _, _, countries, family_first, given_names, family_names = region
    given, family = rng.choice(given_names), rng.choice(family_names)
    name = family + " " + given if family_first else given + " " + family
    roll = rng.random()
    if region[0] == "en" and roll < 0.02:
        name += ", Jr."                 # a comma: the CSV field gets quoted
    elif roll < 0.01:
        name = given + ' "' + given[:3] + '" ' + family    # quotes inside
    country = rng.choice(countries)
    if rng.random() < 0.05:
        email = ""                      # not given
    else:
        local = ascii_word(given) + "." + ascii_word(family)
        if rng.random() < 0.4:
            local += str(rng.randint(1, 99))
        email = local + "@" + rng.choice(MAIL_DOMAINS)
    span = (signup_to - signup_from).days
    signup = signup_from + dt.timedelta(days=int(span * rng.random() ** 0.7))
    active = rng.random() < 0.86
    if rng.random() < 0.07:
        ltv = None                      # never bought anything
    else:
        ltv = decimal.Decimal(rng.lognormvariate(5.3, 1.1)).quantize(CENT)
    first = dt.datetime(signup.year, signup.month, signup.day, tzinfo=UTC)
    room = (updated_to - first).total_seconds()
    updated = first + dt.timedelta(seconds=int(room * (1 - rng.random() ** 3)))
    return {"customer_id": "C%05d" % n, "name": name, "email": email,
            "country": country, "signup_date": signup, "lifetime_value": ltv,
            "is_active": active, "updated_at": updated}


def customer_fields(c):
    return [c["customer_id"], c["name"], c["email"], c["country"],
            c["signup_date"].isoformat(),
            "" if c["lifetime_value"] is None else str(c["lifetime_value"]),
            "true" if c["is_active"] else "false", iso_seconds(c["updated_at"])]


def csv_line(fields):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(fields)
    return out.getvalue().encode("utf-8")


def customer_value(c):
    """The row a correct pipeline keeps, for the expected outcome."""
    return tuple(customer_fields(c))


def latin1_able(c):
    try:
        c["name"].encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not c["name"].isascii()


def gen_customers(rng, out):
    """Two CRM exports.  Returns (facts, {id: customer} for the orders)."""
    export1 = dt.date(2025, 3, 14)
    custs = [make_customer(rng, n, dt.date(2019, 1, 1), dt.date(2025, 3, 10),
                           dt.datetime(2025, 3, 13, 23, 59, 59, tzinfo=UTC))
             for n in range(1, CUSTOMERS + 1)]
    ids = list(range(CUSTOMERS))

    # Export 1: every customer, and five rows spoilt.
    pick = rng.sample(ids, 40)
    latin = next(i for i in pick if latin1_able(custs[i]))
    spoilt = {latin: "latin-1"}
    for kind in ("date", "decimal", "missing", "fields"):
        spoilt[next(i for i in pick if i not in spoilt)] = kind
    lines = [csv_line(CUSTOMER_HEADER)]
    for i, c in enumerate(custs):
        f = customer_fields(c)
        kind = spoilt.get(i)
        if kind is None:
            lines.append(csv_line(f))
        elif kind == "latin-1":         # from an old system, in ISO 8859-1
            lines.append(csv_line(f).decode("utf-8").encode("latin-1"))
        elif kind == "date":            # a day-first date
            f[4] = c["signup_date"].strftime("%d/%m/%Y")
            lines.append(csv_line(f))
        elif kind == "decimal":         # a German number
            f[5] = "{:,.2f}".format(c["lifetime_value"] or 1234.5).replace(
                ",", "X").replace(".", ",").replace("X", ".")
            lines.append(csv_line(f))
        elif kind == "missing":         # the name is required
            f[1] = ""
            lines.append(csv_line(f))
        else:                           # a comma nobody quoted
            f[1] = c["name"].split(" ")[-1] + ", Jr."
            lines.append(",".join(f).encode("utf-8") + b"\r\n")
    path1 = os.path.join(out, "crm", "customers_%s.csv" % export1)
    write(path1, b"".join(lines))
    table = {}
    batch1 = [(c["customer_id"], c["updated_at"], customer_value(c))
              for i, c in enumerate(custs) if i not in spoilt]

    # Export 2: a day later.  Changed customers, unchanged rows sent again,
    # sign-ups, the fixed latin-1 row, and two new bad rows.
    rest = [i for i in ids if i not in spoilt]
    rng.shuffle(rest)
    changed, resent, bad_update = rest[:300], rest[300:450], rest[450:]
    bad_update = next(i for i in bad_update if latin1_able(custs[i]))
    day2 = dt.datetime(2025, 3, 14, tzinfo=UTC)
    rows2 = []
    for i in changed:
        c = dict(custs[i])
        c["lifetime_value"] = ((c["lifetime_value"] or decimal.Decimal(0)) +
                               decimal.Decimal(rng.uniform(10, 400)).quantize(CENT))
        if rng.random() < 0.15:
            c["email"] = ascii_word(c["name"].split(" ")[0]) + "@" + rng.choice(MAIL_DOMAINS)
        if rng.random() < 0.1:
            c["is_active"] = not c["is_active"]
        c["updated_at"] = day2 + dt.timedelta(seconds=rng.randrange(8 * 3600, 86400))
        custs[i] = c
        rows2.append((c["customer_id"], csv_line(customer_fields(c)), c))
    for i in resent:
        c = custs[i]
        rows2.append((c["customer_id"], csv_line(customer_fields(c)), c))
    fixed = dict(custs[latin])
    fixed["updated_at"] = day2 + 9 * HOUR
    custs[latin] = fixed
    rows2.append((fixed["customer_id"], csv_line(customer_fields(fixed)), fixed))
    signups = []
    for n in range(CUSTOMERS + 1, CUSTOMERS + 42):
        c = make_customer(rng, n, dt.date(2025, 3, 14), dt.date(2025, 3, 14),
                          dt.datetime(2025, 3, 14, 23, 0, tzinfo=UTC))
        c["lifetime_value"] = None
        c["is_active"] = True
        signups.append(c)
    leap = signups.pop(7)               # 2025 has no February 29th
    f = customer_fields(leap)
    f[4] = "2025-02-29"
    rows2.append((leap["customer_id"], csv_line(f), None))
    for c in signups:
        custs.append(c)
        rows2.append((c["customer_id"], csv_line(customer_fields(c)), c))
    c = dict(custs[bad_update])         # an update typed on a Windows box
    c["updated_at"] = day2 + 15 * HOUR
    rows2.append((c["customer_id"],
                  csv_line(customer_fields(c)).decode("utf-8").encode("cp1252"), None))
    rows2.sort(key=lambda r: r[0])
    path2 = os.path.join(out, "crm", "customers_%s.csv" % (export1 + DAY))
    write(path2, csv_line(CUSTOMER_HEADER) + b"".join(r[1] for r in rows2))
    batch2 = [(r[2]["customer_id"], r[2]["updated_at"], customer_value(r[2]))
              for r in rows2 if r[2] is not None]

    run1 = merge(table, batch1, CUSTOMERS)
    run2 = merge(table, batch2, len(rows2))
    facts = {
        "summary": [
            (path1, CUSTOMERS, "rows", "every customer; 5 broken"),
            (path2, len(rows2), "rows",
             "%d changed, %d re-sent as they were, %d new; 2 broken"
             % (len(changed), len(resent), len(signups) + 1)),
        ],
        "runs": [run1, run2],
        "rows": len(table),
    }
    by_id = {c["customer_id"]: c for c in custs}
    return facts, by_id


# ---- orders ----------------------------------------------------------------------


def order_events(rng, placed):
    """The life of one order: a list of (time, status) up to LATE_CUT."""
    def later(t, lo, hi):
        return t + dt.timedelta(seconds=rng.randint(int(lo * 3600), int(hi * 3600)),
                                milliseconds=rng.randrange(1000))
    ev = []
    if rng.random() < 0.3:
        ev.append((placed, "placed"))
        if rng.random() < 0.78:
            ev.append((later(placed, 0.2, 6), "paid"))
        else:
            ev.append((later(placed, 1, 48), "cancelled"))
    else:
        ev.append((placed, "paid"))
    if ev[-1][1] == "paid":
        paid = ev[-1][0]
        if rng.random() < 0.94:
            ship = later(paid, 10, 60)
            ev.append((ship, "shipped"))
            if rng.random() < 0.92:
                done = later(ship, 18, 96)
                ev.append((done, "delivered"))
                if rng.random() < 0.03:
                    ev.append((later(done, 24, 150), "returned"))
        else:
            ev.append((later(paid, 1, 20), "cancelled"))
    return [e for e in ev if e[0] < LATE_CUT]


def order_line(o, t, status):
    return ('{"order_id":"%s","customer_id":"%s","status":"%s","amount":%s,'
            '"currency":"%s","quantity":%d,"ordered_at":"%s"}'
            % (o["order_id"], o["customer_id"], status, o["amount"], o["currency"],
               o["quantity"], iso_millis(t)))


def order_value(o, t, status):
    return (o["order_id"], o["customer_id"], status, o["amount"], o["currency"],
            o["quantity"], t)


def retried(rng, lines, size):
    """A producer that timed out and sent a run of lines again."""
    at = rng.randrange(size, len(lines) - size)
    return lines[:at] + lines[at - size:at] + lines[at:]


def spoil(rng, lines, bad):
    """Put broken lines at random places; returns the new list."""
    lines = list(lines)
    for b in bad:
        lines.insert(rng.randrange(1, len(lines)), b)
    return lines


def gen_orders(rng, out, customers):
    ids = sorted(customers)
    appetite = [1 + 6 * rng.random() ** 4 for _ in ids]     # a few buy a lot
    hours = list(itertools.accumulate(ORDER_HOURS))
    orders, placements = [], []
    day = FIRST_DAY
    while day < LATE_CUT:
        # Whoever has signed up by then, each as often as their appetite.
        who = [k for k, c in enumerate(ids) if customers[c]["signup_date"] <= day.date()]
        weights = list(itertools.accumulate(appetite[k] for k in who))
        count = int((2000 if day.weekday() < 5 else 2600) * rng.uniform(0.9, 1.1))
        for _ in range(count):
            hour = rng.choices(range(24), cum_weights=hours)[0]
            t = day + dt.timedelta(hours=hour, seconds=rng.randrange(3600),
                                   milliseconds=rng.randrange(1000))
            cid = ids[rng.choices(who, cum_weights=weights)[0]]
            if t < LATE_CUT:
                placements.append((t, cid))
        day += DAY
    placements.sort()
    events = []
    for n, (placed, cid) in enumerate(placements):
        country = customers[cid]["country"]
        cur = CURRENCY.get(country, "EUR")
        qty = rng.choices([1, 2, 3, 4, 5, 10], weights=[60, 22, 9, 5, 3, 1])[0]
        price = rng.choices(PRICES, weights=PRICE_WEIGHTS)[0]
        amount = (price * qty * EUR_TO[cur]).quantize(CENT)
        o = {"order_id": "SO-%07d" % (1000001 + n), "customer_id": cid,
             "currency": cur, "quantity": qty, "amount": amount, "country": country}
        orders.append(o)
        for t, status in order_events(rng, placed):
            events.append((t, o, status))
    events.sort(key=lambda e: e[0])

    # Delivery: week one, week two, and the next morning's file, which also
    # carries what a stuck outbox held back from week two.
    week1 = [e for e in events if e[0] < WEEK_TWO]
    week2, held = [], []
    for e in events:
        if WEEK_TWO <= e[0] < CUT:
            (held if rng.random() < 0.06 else week2).append(e)
    night = [e for e in events if e[0] >= CUT]

    def lines_of(evs):
        return [(order_line(o, t, s), order_value(o, t, s)) for t, o, s in evs]

    f1 = retried(rng, lines_of(week1), 250)
    f2 = f1[-400:] + retried(rng, lines_of(week2), 180)
    f3 = f2[-300:] + lines_of(held) + lines_of(night)

    def corrupt(o, t, status, how):
        line = order_line(o, t, status)
        if how == "truncated":          # the writer died mid-line
            return line[:len(line) * 2 // 3]
        if how == "comma":              # a decimal comma, as text
            return line.replace('"amount":%s' % o["amount"],
                                '"amount":"%s"' % str(o["amount"]).replace(".", ","))
        if how == "no-time":
            return line.replace(',"ordered_at":"%s"' % iso_millis(t), "")
        if how == "coupon":             # a field the contract does not know
            return line[:-1] + ',"coupon_code":"SPRING25"}'
        if how == "glued":              # two records on one line
            return line + line.replace(o["order_id"], "SO-%07d" % (int(o["order_id"][3:]) + 1))
        if how == "half":               # half a unit
            return line.replace('"quantity":%d' % o["quantity"], '"quantity":1.5')
        if how == "mills":              # a price to a tenth of a cent
            return line.replace('"amount":%s' % o["amount"], '"amount":%s9' % o["amount"])
        if how == "null-id":
            return line.replace('"order_id":"%s"' % o["order_id"], '"order_id":null')
        raise ValueError(how)

    def broken(evs, kinds):
        return [(corrupt(o, t, s, k), None)
                for (t, o, s), k in zip(rng.sample(evs, len(kinds)), kinds)]

    f1 = spoil(rng, f1, broken(week1, ["truncated", "comma", "no-time", "coupon"]))
    f2 = spoil(rng, f2, broken(week2, ["glued", "half", "coupon"]))
    f3 = spoil(rng, f3, broken(night, ["mills", "null-id"]))

    names = ["orders_2025-03-01_07.jsonl.gz", "orders_2025-03-08_14.jsonl.gz",
             "orders_2025-03-15.jsonl.gz"]
    paths = [os.path.join(out, "erp", n) for n in names]
    for path, lines in zip(paths, (f1, f2, f3)):
        write(path, ("\n".join(l for l, _ in lines) + "\n").encode("utf-8"), gz=True)

    # What a correct pipeline does with them: files one and two are
    # transformed together, the late file on its own.
    table = {}

    def batch(lines):
        return [(v[0], v[6], v) for _, v in lines if v is not None]
    run1 = merge(table, batch(f1) + batch(f2), len(f1) + len(f2))
    run2 = merge(table, batch(f3), len(f3))

    # Two orders worth a look, each with events in all three files: one
    # whose held-back event is its latest and wins, one whose held-back event
    # is older than what the table holds and loses.
    files_of = {}
    for i, evs in enumerate((week1, week2, held)):
        for _, o, _ in evs:
            files_of.setdefault(o["order_id"], set()).add(i)
    wins = loses = None
    for t, o, s in held:
        oid = o["order_id"]
        if files_of[oid] != {0, 1, 2}:
            continue
        final_t = table[oid][0]
        if wins is None and final_t == t and s == "delivered":
            wins = oid
        if loses is None and final_t > t and s == "shipped":
            loses = oid
    statuses = {}
    for _, v in table.values():
        statuses[v[2]] = statuses.get(v[2], 0) + 1

    facts = {
        "summary": [
            (paths[0], len(f1), "lines", "week one; 250 lines sent twice; 4 broken"),
            (paths[1], len(f2), "lines", "week two; starts with week one's last 400 "
             "lines again; 3 broken"),
            (paths[2], len(f3), "lines", "%s new, %s held back in week two, 300 "
             "re-sent; 2 broken" % (num(len(night)), num(len(held)))),
        ],
        "runs": [run1, run2],
        "rows": len(table),
        "orders": len(orders),
        "late_wins": wins,
        "late_loses": loses,
        "statuses": statuses,
    }
    return facts, orders, events


# ---- shipments (Avro) ------------------------------------------------------------

SHIPMENT_SCHEMA = {
    "type": "record", "name": "Shipment", "namespace": "example.wms",
    "fields": [
        {"name": "shipment_id", "type": "string"},
        {"name": "order_id", "type": "string"},
        {"name": "carrier", "type": "string"},
        {"name": "tracking_number", "type": ["null", "string"], "default": None},
        {"name": "weight_kg", "type": "double"},
        {"name": "shipping_cost",
         "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2}},
        {"name": "shipped_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "delivered_on",
         "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
    ],
}


def gen_shipments(rng, out, events):
    since, until = CUT - 2 * DAY, CUT
    delivered = {}
    for t, o, s in events:
        if s == "delivered" and t < until:
            delivered[o["order_id"]] = t.date()
    ships = [(t, o) for t, o, s in events if s == "shipped" and since <= t < until]
    no_label = set(rng.sample(range(len(ships)), 3))
    records = []
    for n, (t, o) in enumerate(ships):
        carrier = rng.choice(CARRIERS.get(o["country"], DEFAULT_CARRIERS))
        weight = round(0.2 + o["quantity"] * rng.uniform(0.1, 1.8), 3)
        cost = (decimal.Decimal("3.90") + decimal.Decimal(weight * 0.85)).quantize(CENT)
        records.append({
            "shipment_id": "SHP-%06d" % (400001 + n),
            "order_id": o["order_id"],
            "carrier": carrier,
            "tracking_number": None if n in no_label else
            "%s%010d" % (carrier[:2].upper(), rng.randrange(10 ** 10)),
            "weight_kg": weight,
            "shipping_cost": cost,
            "shipped_at": t,
            "delivered_on": delivered.get(o["order_id"]),
        })
    schema = avro.schema.parse(json.dumps(SHIPMENT_SCHEMA))
    buf = io.BytesIO()
    w = avro.datafile.DataFileWriter(buf, avro.io.DatumWriter(), schema, codec="deflate")
    w.sync_marker = rng.randbytes(16)   # the library draws it at random
    for i, r in enumerate(records):
        w.append(r)
        if i % 1000 == 999:
            w.flush()                   # several blocks, as a real writer makes
    w.flush()
    path = os.path.join(out, "wms", "shipments_2025-03-13_14.avro")
    write(path, buf.getvalue())
    return {"summary": [(path, len(records), "records", "shipped March 13-14; 3 "
                         "without the required tracking number")],
            "rows": len(records) - 3}


# ---- the expected outcome --------------------------------------------------------


def merge(table, batch, records_in):
    """sluice's rule, to state the expected account of a run: per key the
    latest event wins, ties to the later arrival; a winner equal to the
    table's row is a redelivery."""
    best = {}
    for key, t, value in batch:
        b = best.get(key)
        if b is None or t >= b[0]:
            best[key] = (t, value)
    new = replaced = 0
    for key, (t, value) in best.items():
        old = table.get(key)
        if old is None:
            new += 1
        elif t > old[0] or (t == old[0] and value != old[1]):
            replaced += 1
        else:
            continue
        table[key] = (t, value)
    written = new + replaced
    return {"in": records_in, "written": written, "new": new, "replaced": replaced,
            "quarantined": records_in - len(batch),
            "duplicates": len(batch) - written}


def write(path, data, gz=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if gz:
        # No name and no time in the gzip header: the same bytes every run.
        with open(path, "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as z:
                z.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: demo_data.py OUTDIR")
    out = sys.argv[1]
    rng = random.Random(SEED)
    cf, customers = gen_customers(rng, out)
    of, orders, events = gen_orders(rng, out, customers)
    sf = gen_shipments(rng, out, events)

    summary = cf["summary"] + of["summary"] + sf["summary"]
    width = max(len(os.path.relpath(s[0], out)) for s in summary)
    for path, count, unit, text in summary:
        print("%-*s %7s %-7s  %s" % (width, os.path.relpath(path, out), num(count), unit,
                                     text))

    with open(os.path.join(out, "expected.txt"), "w") as f:
        for name, facts in (("customers", cf), ("orders", of)):
            for i, r in enumerate(facts["runs"], 1):
                f.write("%s_run%d=in %d written %d new %d replaced %d quarantined %d "
                        "duplicates %d\n" % (name, i, r["in"], r["written"], r["new"],
                                             r["replaced"], r["quarantined"],
                                             r["duplicates"]))
            f.write("%s_rows=%d\n" % (name, facts["rows"]))
        f.write("shipments_rows=%d\n" % sf["rows"])
        f.write("orders_late_wins=%s\n" % of["late_wins"])
        f.write("orders_late_loses=%s\n" % of["late_loses"])
        f.write("orders_statuses=%s\n" % " ".join(
            "%s:%d" % kv for kv in sorted(of["statuses"].items())))


if __name__ == "__main__":
    main()
