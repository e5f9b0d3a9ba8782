#!/bin/sh
# demo.sh SLUICE - the batch path of sluice, end to end, on generated data.
#
# Run by `make demo` from the repository root, with the sluice binary to use.
# It makes a fresh project in ./demo, generates what a small web shop's
# systems hand over (scripts/demo_data.py: a CRM export as CSV, ERP order
# events as gzip JSON lines, warehouse shipments as Avro), lands them in the
# raw zone, transforms them into curated Parquet, queries them, then lands
# the next day's export and a late delivery and shows what the second runs
# replace, drop and quarantine.  Between the two days it builds gold SQL
# models over the curated tables (models/*.sql: a customer 360 merged
# incrementally, daily order facts partitioned by day, churn labels over
# the 360), and again after the second.  Then the stream path: it starts
# `sluice serve`, puts a few events with the AWS CLI and a clickstream with
# the load generator through the Kinesis API, and shows them reaching the
# curated table within seconds, with the delivery and transform accounts.
set -eu
PY=/usr/bin/python3

if [ $# -ne 1 ]; then
    echo "usage: scripts/demo.sh SLUICE_BINARY (run from the repository root)" >&2
    exit 2
fi
if [ ! -x "$1" ]; then
    echo "demo: no sluice binary at '$1' (make MODE=release builds one)" >&2
    exit 2
fi
root=$(pwd)
case $1 in
    /*) bin=$1 ;;
    *) bin=$root/$1 ;;
esac
# The binary as a user would type it from inside ./demo.
case $1 in
    /*) shown=$1 ;;
    *) shown=../$1 ;;
esac
started=$(date +%s)

if [ -t 1 ]; then
    bold=$(printf '\033[1m') dim=$(printf '\033[2m') off=$(printf '\033[0m')
else
    bold='' dim='' off=''
fi

# A heading.
step() {
    printf '\n%s== %s%s\n' "$bold" "$*" "$off"
}

# A line of explanation.
say() {
    printf '%s\n' "$*"
}

# Show a sluice command, then run it.
sl() {
    printf '%s$ sluice %s%s\n' "$dim" "$*" "$off"
    "$bin" "$@"
}

# Show a query, then run it.
q() {
    if [ $# -gt 1 ]; then
        printf '%s$ sluice query %s %s "%s"%s\n' "$dim" "$2" "$3" "$1" "$off"
        "$bin" query "$2" "$3" "$1"
        return
    fi
    printf '%s$ sluice query "%s"%s\n' "$dim" "$1" "$off"
    "$bin" query "$1"
}


# The value of KEY in the generator's data/expected.txt.
expected() {
    sed -n "s/^$1=//p" data/expected.txt
}

# Each event of order $1 in the ERP files, in arrival order: file, event
# time, status.
order_story() {
    for f in data/erp/*.jsonl.gz; do
        gzip -dc "$f" | grep "\"order_id\":\"$1\"" |
            sed -n 's/.*"status":"\([a-z]*\)".*"ordered_at":"\([^"]*\)".*/\2 \1/p' |
            while read -r when status; do
                printf '    %-31s %s  %s\n' "$(basename "$f")" "$when" "$status"
            done
    done
}

step "1. A new project"
rm -rf demo
sl init demo
cd demo

step "2. Sources and their data contracts"
say "sources/customers.yaml (from init) is replaced to match the CRM export; the ERP's"
say "orders and the warehouse's shipments are added."
cat >sources/customers.yaml <<'EOF'
# The CRM's customer export: one row per customer, sent whole every day.
system: crm
contracts:
  - version: "1.0"
    key: customer_id
    event_time: updated_at          # a later export of a customer replaces it
    unknown_fields: reject
    columns:
      - {name: customer_id, type: string, required: true}
      - {name: name, type: string, required: true}
      - {name: email, type: string}
      - {name: country, type: string}
      - {name: signup_date, type: date}
      - {name: lifetime_value, type: "decimal(12,2)"}
      - {name: is_active, type: bool}
      - {name: updated_at, type: timestamp, required: true}
EOF
cat >sources/orders.yaml <<'EOF'
# The ERP's order events, as gzip JSON lines.  Each event carries the whole
# order as it stands and ordered_at is the time of the event, so the latest
# event of an order is its state.  Delivery is at-least-once.
system: erp
contracts:
  - version: "1.0"
    key: order_id
    event_time: ordered_at
    unknown_fields: reject          # a field the contract lacks is quarantined
    columns:
      - {name: order_id, type: string, required: true}
      - {name: customer_id, type: string, required: true}
      - {name: status, type: string, required: true}
      - {name: amount, type: "decimal(12,2)", required: true}
      - {name: currency, type: string, required: true}
      - {name: quantity, type: int64, required: true}
      - {name: ordered_at, type: timestamp, required: true}
EOF
cat >sources/shipments.yaml <<'EOF'
# The warehouse's shipments, as Avro object container files.
system: wms
contracts:
  - version: "1.0"
    key: shipment_id
    event_time: shipped_at
    columns:
      - {name: shipment_id, type: string, required: true}
      - {name: order_id, type: string, required: true}
      - {name: carrier, type: string}
      - {name: tracking_number, type: string, required: true}
      - {name: weight_kg, type: double}
      - {name: shipping_cost, type: "decimal(8,2)"}
      - {name: shipped_at, type: timestamp, required: true}
      - {name: delivered_on, type: date}
EOF
printf '%s$ cat sources/orders.yaml%s\n' "$dim" "$off"
cat sources/orders.yaml
sl sources

step "3. Generate the data (scripts/demo_data.py, fixed seed)"
/usr/bin/python3 "$root/scripts/demo_data.py" data

step "4. Land the first deliveries in the raw zone"
say "Each file is stored unchanged under raw/<source>/<arrival hour>/, named by its"
say "content hash, and recorded in the catalog with its contract version."
sl ingest --source customers data/crm/customers_2025-03-14.csv
sl ingest --source orders data/erp/orders_2025-03-01_07.jsonl.gz \
    data/erp/orders_2025-03-08_14.jsonl.gz
sl ingest --source shipments data/wms/shipments_2025-03-13_14.avro
sl raw ls

step "5. Land a file a second time"
say "The same bytes are the same object: reported as a duplicate, nothing added."
sl ingest --source orders data/erp/orders_2025-03-01_07.jsonl.gz
printf '%s$ sluice raw ls | tail -n 1%s\n' "$dim" "$off"
"$bin" raw ls | tail -n 1

step "6. Transform raw -> curated"
say "Every record is checked against its contract; bad ones go to quarantine with"
say "the reason, and one row per key is kept. Each run's account must balance."
sl transform --source customers
sl transform --source orders
sl transform --source shipments

step "7. Query the curated tables"
q "SELECT customer_id, name, country, lifetime_value, is_active, updated_at
FROM curated.customers ORDER BY customer_id LIMIT 5"
q "SELECT order_id, customer_id, status, amount, currency, quantity, ordered_at
FROM curated.orders ORDER BY order_id LIMIT 5"
say
say "Euro revenue by day and status (a row holds an order's latest event, so an"
say "order counts on the day of that event):"
q "SELECT CAST(ordered_at AS DATE) AS day, count(*) AS orders,
  sum(amount) FILTER (WHERE status IN ('placed', 'paid')) AS open,
  sum(amount) FILTER (WHERE status = 'shipped') AS shipped,
  sum(amount) FILTER (WHERE status = 'delivered') AS delivered,
  sum(amount) FILTER (WHERE status IN ('cancelled', 'returned')) AS lost
FROM curated.orders WHERE currency = 'EUR' GROUP BY day ORDER BY day"

step "8. Quarantined records and why"
q "SELECT original_name, line, field, reason FROM quarantine.customers ORDER BY line"
q "SELECT original_name, line, field, reason FROM quarantine.orders
ORDER BY original_name, line LIMIT 10"
q "SELECT original_name, record, field, reason FROM quarantine.shipments ORDER BY record"
say
say "Each record is kept as it arrived (bytes that are not UTF-8 in text_base64):"
q "SELECT line, coalesce(text, from_base64(text_base64)::VARCHAR) AS as_it_arrived
FROM quarantine.customers ORDER BY line"

step "8b. The gold zone: SQL models over curated"
say "A model is a SELECT in models/<name>.sql with a config header; sluice build"
say "finds what each reads, builds them in dependency order (independent ones in"
say "parallel) and commits each as an Iceberg table gold.<name>."
mkdir -p models
cat >models/customer_360.sql <<'EOF'
-- materialized: incremental
-- unique_key: customer_id
-- description: one row per customer with their lifetime orders
SELECT c.customer_id, c.name, c.country, c.signup_date,
       count(o.order_id) AS orders,
       coalesce(sum(o.amount) FILTER (WHERE o.currency = 'EUR'
                                       AND o.status NOT IN ('cancelled', 'returned')), 0)
           AS net_revenue_eur,
       max(o.ordered_at) AS last_order_at
FROM curated.customers c LEFT JOIN curated.orders o USING (customer_id)
GROUP BY ALL
EOF
cat >models/daily_order_facts.sql <<'EOF'
-- materialized: table
-- partition_by: day(order_day)
-- description: orders, items and amount per day, status and currency
SELECT CAST(ordered_at AS DATE) AS order_day, status, currency,
       count(*) AS orders, sum(quantity) AS items, sum(amount) AS amount
FROM curated.orders
GROUP BY ALL
EOF
cat >models/churn_labels.sql <<'EOF'
-- description: a label per customer: no order in the week before the latest one
SELECT customer_id,
       last_order_at IS NULL
       OR last_order_at < (SELECT max(last_order_at) FROM gold.customer_360) - INTERVAL 7 DAY
           AS churned
FROM gold.customer_360
EOF
printf '%s$ cat models/customer_360.sql%s\n' "$dim" "$off"
cat models/customer_360.sql
sl build
q "SELECT customer_id, name, country, orders, net_revenue_eur, last_order_at
FROM gold.customer_360 ORDER BY net_revenue_eur DESC, customer_id LIMIT 5"
q "SELECT order_day, sum(orders) AS orders, sum(amount) FILTER (WHERE currency = 'EUR') AS eur
FROM gold.daily_order_facts GROUP BY ALL ORDER BY order_day LIMIT 5"
q "SELECT churned, count(*) AS customers FROM gold.churn_labels GROUP BY ALL ORDER BY 1"
say "gold.daily_order_facts is partitioned by day: a data file per day, in"
say "lake/gold/daily_order_facts/dt=YYYY-MM-DD/."

step "9. The next day: a new CRM export and a late ERP delivery"
say "The export changes 300 customers and re-sends 150 unchanged; the ERP file"
say "carries the night's events, events a stuck outbox held back during week two,"
say "and 300 lines it had already sent."
sl ingest --source customers data/crm/customers_2025-03-15.csv
sl ingest --source orders data/erp/orders_2025-03-15.jsonl.gz
sl raw ls --source orders

step "10. Transform again"
say "Later events replace older rows; re-sent rows and events older than the row"
say "a table holds are dropped as duplicates. Shipments got nothing new."
sl transform --source customers
sl transform --source orders
sl transform --source shipments
say
say "What the new files brought to quarantine:"
q "SELECT original_name, line, field, reason FROM quarantine.customers
WHERE original_name = 'customers_2025-03-15.csv'
UNION ALL SELECT original_name, line, field, reason FROM quarantine.orders
WHERE original_name = 'orders_2025-03-15.jsonl.gz' ORDER BY original_name, line"

step "11. Exactly one row per key"
q "SELECT 'customers' AS tbl, count(*) AS rows, count(DISTINCT customer_id) AS keys
FROM curated.customers
UNION ALL SELECT 'orders', count(*), count(DISTINCT order_id) FROM curated.orders
UNION ALL SELECT 'shipments', count(*), count(DISTINCT shipment_id) FROM curated.shipments"
say "The generator expects $(expected customers_rows) customers, $(expected orders_rows)" \
    "orders and $(expected shipments_rows) shipments."
wins=$(expected orders_late_wins)
loses=$(expected orders_late_loses)
say
say "Two orders with events in all three ERP files. $wins: its latest event was"
say "held back, and replaces the row when it arrives:"
order_story "$wins"
say "$loses: its held-back event is older than the row it finds, and is dropped:"
order_story "$loses"
q "SELECT order_id, status, ordered_at FROM curated.orders
WHERE order_id IN ('$wins', '$loses') ORDER BY order_id"

step "11a. Check the orders' quality"
say "A data-quality ruleset in AWS Glue's DQDL: quality/curated.orders.dqdl. sluice"
say "check evaluates it (one query per where filter) and records every rule's value"
say "in the catalog; dynamic thresholds such as avg(last(5)) read that history."
mkdir -p quality
cat > quality/curated.orders.dqdl <<'EOF'
# What the analysts rely on in curated.orders.
DataSources = { "AdditionalDataSources": ["customers"] }
Rules = [
    RowCount > avg(last(5)) * 0.9,
    IsPrimaryKey "order_id",
    IsComplete "customer_id",
    ColumnValues "amount" > 0,
    ColumnValues "quantity" between 0 and 100 with threshold > 0.99,
    ColumnValues "status" in ["placed", "paid", "shipped", "delivered", "cancelled", "returned"]
        with threshold > 0.9,
    ReferentialIntegrity "customer_id" "customers.customer_id" > 0.95,
    (DistinctValuesCount "currency" < 10) and (Mean "amount" > 1)
]
EOF
printf '%s$ cat quality/curated.orders.dqdl%s\n' "$dim" "$off"
cat quality/curated.orders.dqdl
sl check curated.orders

step "11b. The quality gate holds a bad batch"
say "Now that orders have a ruleset, every transform of the source is gated: each"
say "run is committed held and checked over the table as it would leave it, then"
say "published - or, if a rule fails, kept out of sight until someone decides. A"
say "late ERP export with refunds booked as negative orders:"
"$PY" - data/erp/refunds_2025-03-16.jsonl <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 4):
        f.write(json.dumps({"order_id": "R-%04d" % i, "customer_id": "C%05d" % i,
                            "status": "returned", "amount": "-%d.90" % (10 * i),
                            "currency": "EUR", "quantity": 1,
                            "ordered_at": "2025-03-16T09:%02d:00Z" % i}) + "\n")
PY
sl ingest --source orders data/erp/refunds_2025-03-16.jsonl
printf '%s$ sluice transform --source orders%s\n' "$dim" "$off"
"$bin" transform --source orders 2>/dev/null || true
sl staged
held=$("$bin" staged | sed -n 's/^run \([0-9]*\) .*/\1/p' | head -n 1)
say "Nothing of it is visible, and the alert went to the log (and would go to the"
say "webhooks of alerts.webhooks). The data team decides refunds belong elsewhere:"
sl discard "$held"
q "SELECT count(*) AS orders, min(amount) AS smallest FROM curated.orders"
say "The refunds stay in the raw zone: the next transform, after the contract or"
say "the rules change, takes them again. Nothing is lost, nothing published twice."

step "11c. Build the gold models again"
say "customer_360 is incremental: only the customers the new runs touched are"
say "rebuilt (their rows deleted by position and written anew), which equals a"
say "full rebuild. The table models are rebuilt whole, as new snapshots."
sl build
q "SELECT count(*) AS customers, sum(orders) AS orders FROM gold.customer_360"
say "The lineage of a gold table: the build, what it read at which snapshot, and"
say "on down to the transform runs and raw objects:"
sl lineage gold.churn_labels | cut -c1-150

step "11d. The whole pipeline as one state machine, started by an arrival"
say "flows/pipeline.asl.json is an Amazon States Language definition, as Step"
say "Functions runs them: transform what arrived, quality gate, models, then - if"
say "there are enough labelled customers - a training set, a training command, a"
say "model registry entry and a webhook with the metric's change.  Every stage is"
say "a Task; failures are named errors that Retry and Catch handle.  Beside it,"
say "flows/pipeline.yaml says what starts it: each new raw object of shipments."
say "sluice serve watches the trigger, and records the execution and its history"
say "in the catalog as it runs."
mkdir -p flows registry
cat > train.py <<'PYTRAIN'
"""A stand-in training job: the churn rate of the training set, and its
change against the registry's last model."""
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rate = sum(r["churned"] == "true" for r in rows) / len(rows)
try:
    models = [json.loads(line) for line in open(sys.argv[2])]
except OSError:
    models = []
last = models[-1]["churn_rate"] if models else None
print(json.dumps({"model": "churn-v%d" % (len(models) + 1), "rows": len(rows),
                  "churn_rate": round(rate, 4),
                  "change": None if last is None else round(rate - last, 4)}))
PYTRAIN
hook_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > flows/pipeline.asl.json <<ASL
{"Comment": "the seeds' pipeline: curated, gate, gold, training set, training, registry, announce",
 "StartAt": "Transform",
 "States": {
  "Transform": {"Type": "Task", "Resource": "arn:aws:states:::sluice:transform",
                "Comment": "the input is S3's event notification of what arrived",
                "Parameters": {"source.\$": "\$.Records[0].sluice.source"},
                "Retry": [{"ErrorEquals": ["sluice.TransformFailed"], "MaxAttempts": 2}],
                "ResultPath": null, "Next": "Gate"},
  "Gate": {"Type": "Task", "Resource": "arn:aws:states:::sluice:check",
           "Parameters": {"table": "curated.orders"}, "ResultPath": null,
           "Catch": [{"ErrorEquals": ["sluice.QualityCheckFailed"], "ResultPath": "\$.gate",
                      "Next": "Held"}],
           "Next": "Models"},
  "Models": {"Type": "Task", "Resource": "arn:aws:states:::sluice:build",
             "ResultPath": null, "Next": "Labelled"},
  "Labelled": {"Type": "Task", "Resource": "arn:aws:states:::sluice:query",
               "Parameters": {"sql": "SELECT count(*) AS n FROM gold.churn_labels"},
               "ResultSelector": {"n.\$": "\$.rows[0].n"}, "ResultPath": "\$.labelled",
               "Next": "Enough?"},
  "Enough?": {"Type": "Choice", "Default": "NotYet",
              "Choices": [{"Variable": "\$.labelled.n", "NumericGreaterThanEquals": 1000,
                           "Next": "TrainingSet"}]},
  "TrainingSet": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
                  "Parameters": {"command": ["sh", "-c",
                    "'$bin' query --format csv 'SELECT c.country, c.orders, c.net_revenue_eur, l.churned FROM gold.customer_360 c JOIN gold.churn_labels l USING (customer_id)' > data/training_set.csv"]},
                  "ResultPath": null, "Next": "Train"},
  "Train": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
            "Parameters": {"command": ["$PY", "train.py", "data/training_set.csv",
                                       "registry/models.jsonl"]},
            "TimeoutSeconds": 600, "ResultPath": "\$.model", "Next": "Register"},
  "Register": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
               "Parameters": {"command.\$": "States.Array('$PY', '-c', 'import sys; print(sys.argv[1], file=open(\"registry/models.jsonl\", \"a\"))', States.JsonToString(\$.model))"},
               "ResultPath": null, "Next": "Announce"},
  "Announce": {"Type": "Task", "Resource": "arn:aws:states:::sluice:webhook",
               "Parameters": {"url": "http://127.0.0.1:$hook_port/hooks/ml",
                              "text.\$": "States.Format('{} trained on {} customers: churn rate {} (change {})', \$.model.model, \$.model.rows, \$.model.churn_rate, \$.model.change)"},
               "Retry": [{"ErrorEquals": ["sluice.WebhookFailed"], "MaxAttempts": 3}],
               "ResultPath": null, "End": true},
  "NotYet": {"Type": "Succeed", "Comment": "not enough labelled customers yet"},
  "Held": {"Type": "Fail", "Error": "QualityGate", "CausePath": "\$.gate.Cause"}}}
ASL
cat > flows/pipeline.yaml <<'YAML'
# What starts flows/pipeline.asl.json: each delivery of the warehouse.
triggers:
  - arrival: shipments
YAML
printf '%s$ cat flows/pipeline.yaml%s\n' "$dim" "$off"
cat flows/pipeline.yaml
sl triggers
say "A local receiver stands in for Slack's webhook."
: > data/hooks.jsonl
"$PY" "$root/tests/lib/webhook.py" "$hook_port" data/hooks.jsonl &
hook=$!
while [ ! -s data/hooks.jsonl.port ]; do sleep 0.05; done
printf '%s$ sluice serve --listen 127.0.0.1:0 &%s\n' "$dim" "$off"
"$bin" serve --listen 127.0.0.1:0 > serve-flows.log 2>&1 &
server=$!
trap 'kill -TERM $server $hook 2>/dev/null; wait $server 2>/dev/null' EXIT
until grep -q 'listening on' serve-flows.log; do
    kill -0 $server 2>/dev/null || { cat serve-flows.log; exit 1; }
    sleep 0.05
done
say "The warehouse delivers the next day's shipments:"
"$bin" query --format csv "SELECT order_id FROM curated.orders
WHERE status IN ('paid', 'shipped') AND order_id NOT IN (SELECT order_id FROM curated.shipments)
ORDER BY order_id LIMIT 40" | "$PY" -c '
import json, sys
ids = [l.strip() for l in sys.stdin][1:]
with open("data/wms/shipments_2025-03-15.jsonl", "w") as f:
    for i, o in enumerate(ids):
        f.write(json.dumps({"shipment_id": "S-L%04d" % i, "order_id": o, "carrier": "DHL",
                            "tracking_number": "JD%012d" % (9000 + i), "weight_kg": 1.5,
                            "shipping_cost": "4.90",
                            "shipped_at": "2025-03-15T08:%02d:00Z" % (i % 60)}) + "\n")'
sl ingest --source shipments data/wms/shipments_2025-03-15.jsonl
i=0
until "$bin" executions --machine pipeline --limit 1 | grep -qE 'SUCCEEDED|FAILED|TIMED_OUT|ABORTED'; do
    i=$((i + 1))
    [ $i -lt 1200 ] || { cat serve-flows.log; exit 1; }
    sleep 0.1
done
say "The arrival started an execution; its history, as 'sluice execution' shows it:"
run=$("$bin" executions --machine pipeline --limit 1 | awk 'NR == 2 {print $1}')
sl execution "$run" | cut -c1-110
"$PY" -c "import json; print('  the webhook got:', json.loads(open('data/hooks.jsonl').readline())['body']['text'])"
kill -TERM $server; wait $server || true
kill $hook 2>/dev/null; wait $hook 2>/dev/null || true
trap - EXIT
sl executions --limit 3

step "12. The accounts of all runs"
sl runs

step "12b. The curated tables are Apache Iceberg v2 tables"
say "Each transform run committed a snapshot; any Iceberg reader opens the tables"
say "(the catalog keeps their pointers in iceberg_tables, as Iceberg's JDBC and"
say "PyIceberg's SQL catalogs do).  partition_by: auto picked each table's"
say "partitioning from its first run: the customer export spans six years, the"
say "orders a few days."
for t in customers orders shipments; do
    spec=$("$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
f = [s for s in m["partition-specs"] if s["spec-id"] == m["default-spec-id"]][0]["fields"]
print(f[0]["transform"] + "(" + f[0]["name"].rsplit("_", 1)[0] + ")" if f else "none")' \
        "$(ls -t lake/curated/$t/metadata/*.metadata.json | head -n 1)")
    printf '  curated.%-10s partitioned by %-22s %s\n' "$t" "$spec" \
        "$("$bin" snapshots --json curated.$t | "$PY" -c 'import json, sys
s = [json.loads(l) for l in sys.stdin if json.loads(l)["current"]][0]["summary"]
print("%s data files, %s rows" % (s["total-data-files"], s["total-records"]))')"
done
printf '%s$ sluice snapshots curated.orders%s\n' "$dim" "$off"
"$bin" snapshots curated.orders | cut -c1-110
first=$("$bin" snapshots --json curated.orders | head -n 1 | sed 's/.*"snapshot_id": \([0-9]*\),.*/\1/')
say "Time travel: the orders as the first run left them, and now:"
q "SELECT count(*) AS orders_at_first_snapshot FROM curated.orders" --as-of "$first"
q "SELECT count(*) AS orders_now FROM curated.orders"

step "13. A stream: clickstream events through the Kinesis API"
say "Web events arrive all the time. A source file can declare a stream: the"
say "server takes records through the Kinesis API, keeps them in a durable log,"
say "delivers them into the raw zone every second (or each MiB), and with"
say "on_arrival: transform each delivered object is curated at once (by a"
say "built-in flow, sluice-transform-clicks, that an arrival trigger starts)."
cat > sources/clicks.yaml <<'YAML'
system: web
stream:
  shards: 4
  write_limit_bytes: 0       # no per-shard throttling for the demo
  write_limit_records: 0
  buffer_size: 1MiB
  buffer_interval: 1
on_arrival: transform
contracts:
  - version: "1.0"
    key: [event_id]
    event_time: ts
    columns:
      - {name: event_id, type: string, required: true}
      - {name: user_id, type: string, required: true}
      - {name: page, type: string}
      - {name: action, type: string}
      - {name: ts, type: timestamp, required: true}
      - {name: pad, type: string}
YAML
printf '%s$ cat sources/clicks.yaml%s\n' "$dim" "$off"
sed -n '1,9p' sources/clicks.yaml
printf '%s$ sluice serve --listen 127.0.0.1:0 &%s\n' "$dim" "$off"
"$bin" serve --listen 127.0.0.1:0 > serve.log 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
i=0
until grep -q 'listening on' serve.log; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 $server 2>/dev/null; then
        cat serve.log
        exit 1
    fi
    sleep 0.05
done
url=$(sed -n 's|.*listening on \(http[^ ]*\).*|\1|p' serve.log)
sed -n '/listening on/p' serve.log

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
aws() {
    printf '%s$ aws %s%s\n' "$dim" "$*" "$off"
    /usr/bin/aws --endpoint-url "$url" "$@"
}
step "14. The AWS CLI, unchanged, pointed at sluice"
aws kinesis describe-stream-summary --stream-name clicks \
    --query 'StreamDescriptionSummary.[StreamName,StreamStatus,OpenShardCount]' --output text
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
for n in 1 2 3; do
    aws kinesis put-record --stream-name clicks --partition-key "u$n" \
        --cli-binary-format raw-in-base64-out --output text \
        --data "{\"event_id\":\"cli-$n\",\"user_id\":\"u$n\",\"page\":\"/home\",\"action\":\"view\",\"ts\":\"$now\"}"
done

step "15. A clickstream from the load generator: 20,000 events a second for 5 s"
loadgen=$root/${1%/sluice}/loadgen
case $1 in /*) loadgen=${1%/sluice}/loadgen ;; esac
printf '%s$ loadgen --endpoint %s --stream clicks --connections 4 --rate 20000 --duration 5%s\n' \
    "$dim" "$url" "$off"
"$loadgen" --endpoint "$url" --stream clicks --connections 4 --rate 20000 --duration 5 --quiet |
    sed -n 's/^RESULT /  /p' | tr ' ' '\n' | grep -E 'records=|records_per_s|p50_ms|p99_ms|failed' |
    sed 's/^/  /' | paste -sd' '
sleep 3

step "16. In the curated table seconds later"
q "SELECT count(*) AS events, count(DISTINCT user_id) AS users,
       max(ts) AS newest_event, now() - max(_ingested_at) AS since_last_delivery
FROM curated.clicks"
q "SELECT event_id, user_id, page, ts FROM curated.clicks WHERE event_id LIKE 'cli-%' ORDER BY 1"
say "The accounts: each delivery (records from the stream into one raw object)"
say "and each transform it started:"
"$bin" runs --source clicks --limit 8
say
say "From GET $url/metrics:"
"$PY" -c "import urllib.request; print(urllib.request.urlopen('$url/metrics').read().decode())" 2>/dev/null |
    grep -E '^sluice_(stream_records_in_total|stream_throttled|delivery_records_total|flow_triggered_total\{kind="arrival"|flow_executions_finished_total\{status="SUCCEEDED"|commit_seconds_count)' |
    sed 's/^/  /'
printf '%s$ kill -TERM %s   # stops accepting, delivers what it holds%s\n' \
    "$dim" "$server" "$off"
kill -TERM $server
wait $server || true
trap - EXIT
tail -n 1 serve.log

step "Done in $(($(date +%s) - started)) s"
say "The project is $root/demo, its lake $root/demo/lake:"
for zone in raw curated quarantine _streams _catalog; do
    printf '  %-12s %6s  %s files\n' "$zone/" "$(du -sh "lake/$zone" | cut -f1)" \
        "$(find "lake/$zone" -type f | wc -l | tr -d ' ')"
done
say
say "Try next:"
say "  cd demo"
say "  $shown query \"SELECT status, count(*) AS orders FROM curated.orders GROUP BY ALL ORDER BY 2 DESC\""
say "  $shown query \"SELECT o.order_id, o.status, s.carrier, s.delivered_on FROM curated.orders o JOIN curated.shipments s USING (order_id) LIMIT 5\""
say "  $shown query --format csv \"SELECT * FROM curated.customers WHERE country = 'SE'\" > se.csv"
say "  $shown transform --source orders --rewind   # reprocess it all: the table stays the same"
say "  $shown build --full-refresh customer_360     # rebuild a gold model whole"
say "  $shown check curated.orders; $shown quality history curated.orders   # quality, and its history"
say "  $shown catalog   # the catalog: here SQLite in the lake; 'catalog copy --to postgresql://...' shares it between nodes"
say "  $shown --help"
