#!/usr/bin/python3
"""Generate order events as JSON lines for the transform benchmark and demo.

  gen_orders.py base N OUT            N orders, keys O000000000.., events in
                                      October 2026 (UTC)
  gen_orders.py delta N BASE_N OUT    N records: 80% new keys after the base,
                                      18% updates of base keys with a later
                                      event time (spread over every day),
                                      1% exact redeliveries of base rows and
                                      1 in 1000 malformed (bad type, missing
                                      field, broken JSON)

Deterministic: the same arguments give the same bytes.  About 125 bytes a
record.
"""
import random
import sys

STATUSES = ["new", "paid", "shipped", "delivered", "cancelled", "returned"]
MONTH_START = 1790812800  # 2026-10-01T00:00:00Z


def ts(secs):
    days, rem = divmod(secs - MONTH_START, 86400)
    return "2026-10-%02dT%02d:%02d:%02dZ" % (days + 1, rem // 3600, rem // 60 % 60, rem % 60)


def order(rng, key, when):
    return ('{"order_id":"O%09d","customer_id":"C%07d","status":"%s","amount":%d.%02d,'
            '"qty":%d,"ordered_at":"%s"}'
            % (key, rng.randrange(250000), rng.choice(STATUSES), rng.randrange(1, 2000),
               rng.randrange(100), rng.randrange(1, 20), ts(when)))


def base_time(key):
    # The base row of a key is a pure function of the key, so a delta can
    # redeliver it byte for byte.
    r = random.Random(key * 7919 + 1)
    return r, MONTH_START + r.randrange(30 * 86400)


def base(n, out):
    for key in range(n):
        r, when = base_time(key)
        out.write(order(r, key, when) + "\n")


def delta(n, base_n, out):
    rng = random.Random(42)
    next_key = base_n
    for i in range(n):
        x = rng.random()
        if i % 1000 == 999:
            kind = i // 1000 % 3
            if kind == 0:
                out.write('{"order_id":"O%09d","customer_id":"C0000001","status":"paid",'
                          '"amount":"twelve","qty":1,"ordered_at":"2026-10-10T10:00:00Z"}\n'
                          % next_key)
            elif kind == 1:
                out.write('{"order_id":"O%09d","status":"paid","amount":1.00,"qty":1}\n'
                          % next_key)
            else:
                out.write('{"order_id":"O%09d","customer_id":"C1",\n' % next_key)
            next_key += 1
        elif x < 0.80 or base_n == 0:
            out.write(order(rng, next_key, MONTH_START + rng.randrange(31 * 86400)) + "\n")
            next_key += 1
        elif x < 0.98:
            key = rng.randrange(base_n)
            _, when = base_time(key)
            later = min(when + rng.randrange(1, 5 * 86400), MONTH_START + 31 * 86400 - 1)
            out.write(order(rng, key, later) + "\n")
        else:
            key = rng.randrange(base_n)
            r, when = base_time(key)
            out.write(order(r, key, when) + "\n")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "base":
        with open(sys.argv[3], "w") as out:
            base(int(sys.argv[2]), out)
    elif len(sys.argv) == 5 and sys.argv[1] == "delta":
        with open(sys.argv[4], "w") as out:
            delta(int(sys.argv[2]), int(sys.argv[3]), out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
