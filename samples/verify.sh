#!/usr/bin/env bash
# End-to-end check of the samples' command-line contract (see samples/README.md).
#
#   samples/verify.sh [AMQP_URI]
#
# AMQP_URI defaults to $RABBITMQ_URI. Checks, each failing the script with a non-zero exit on any mismatch:
#   1. the in-memory demo (Consumer, no arguments): exit 0, a trace tree with producer and consumer spans and baggage;
#   2. the in-memory demo with --json (child and link parenting, custom baggage): consumer lines continue producer lines;
#   3. usage errors exit 2 with nothing on stdout;
#   4. RabbitMQ: Producer then Consumer, Consumer then Producer, --parenting link, OTEL_PROPAGATORS=b3,baggage, and two
#      --uri whose first node is down —
#      every consumer line has its producer line's traceId, parentSpanId = the producer's spanId (or, with link, a new
#      trace), one link to the producer context in both modes, and exactly the baggage sent;
#   5. with RABBITMQ_CLUSTER_URIS and RABBITMQ_CLUSTER_NODENAMES (set by .ci/with-rabbitmq-node --nodes 3): Consumer and
#      Producer with --uri per node and --queue-type quorum, the node of the queue's leader stopped mid-stream — nothing
#      lost, duplicates reported, every consumer line in its producer's trace. VERIFY_REQUIRE_CLUSTER=1 makes it required.
#
# Environment: CONFIGURATION (Debug), SKIP_BUILD=1 (use existing binaries), RUN_TIMEOUT seconds per run (120),
# VERIFY_SKIP_RABBITMQ=1 (in-memory checks only). Needs bash, coreutils `timeout`, python3 and the .NET SDK.
# Each RabbitMQ check uses its own fresh queue (verify-…), left behind empty.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGURATION="${CONFIGURATION:-Debug}"
RUN_TIMEOUT="${RUN_TIMEOUT:-120}"
URI="${1:-${RABBITMQ_URI:-}}"
WORK="$(mktemp -d)"
PIDS=()
FAILED=0

cleanup() {
    for pid in "${PIDS[@]:-}"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    FAILED=1
}
show() { # show FILE...: dump files after a failure
    for f in "$@"; do
        printf -- '---- %s\n' "$f" >&2
        tail -n 40 "$f" >&2 || true
    done
}

producer() { timeout "$RUN_TIMEOUT" dotnet run --no-build -c "$CONFIGURATION" --project "$ROOT/samples/Producer" -- "$@"; }
consumer() { timeout "$RUN_TIMEOUT" dotnet run --no-build -c "$CONFIGURATION" --project "$ROOT/samples/Consumer" -- "$@"; }

# check_json MODE COUNT BAGGAGE_JSON [--expect-header H] [--absent-header H] [--at-least-once] FILE...
# MODE: child | link. Every line of every FILE must be one JSON object; producer and consumer lines are paired by
# messageId. --at-least-once: a message may be consumed more than once (failover), but none may be missing.
check_json() {
    python3 - "$@" <<'PY'
import json, re, sys

args = sys.argv[1:]
mode, count, baggage = args[0], int(args[1]), json.loads(args[2])
expect_headers, absent_headers, files = [], [], []
at_least_once = False
i = 3
while i < len(args):
    if args[i] == "--expect-header":
        expect_headers.append(args[i + 1]); i += 2
    elif args[i] == "--absent-header":
        absent_headers.append(args[i + 1]); i += 2
    elif args[i] == "--at-least-once":
        at_least_once = True; i += 1
    else:
        files.append(args[i]); i += 1

errors = []
lines = []
for name in files:
    with open(name, encoding="utf-8") as f:
        for n, line in enumerate(f.read().splitlines(), 1):
            try:
                obj = json.loads(line)
            except ValueError:
                errors.append(f"{name}:{n}: not a JSON line: {line[:120]!r}")
                continue
            if not isinstance(obj, dict) or obj.get("role") not in ("producer", "consumer"):
                errors.append(f"{name}:{n}: not a producer/consumer object: {line[:120]!r}")
                continue
            lines.append(obj)

trace_id = re.compile(r"^[0-9a-f]{32}$")
span_id = re.compile(r"^[0-9a-f]{16}$")
producers = {p["messageId"]: p for p in lines if p["role"] == "producer"}
consumers = [c for c in lines if c["role"] == "consumer"]
if len(producers) != count:
    errors.append(f"expected {count} producer lines with distinct message ids, got {len(producers)}")
if len(consumers) != count and not (at_least_once and len(consumers) > count):
    errors.append(f"expected {count} consumer lines, got {len(consumers)}")
if len({p["traceId"] for p in producers.values()}) != len(producers):
    errors.append("producer messages must each start their own trace")

for p in producers.values():
    if not trace_id.match(p.get("traceId") or "") or not span_id.match(p.get("spanId") or ""):
        errors.append(f"producer {p['messageId']}: bad ids {p.get('traceId')!r}/{p.get('spanId')!r}")
    headers = p.get("headers") or {}
    tp = headers.get("traceparent")
    if tp is not None and tp.split("-")[1:3] != [p["traceId"], p["spanId"]]:
        errors.append(f"producer {p['messageId']}: traceparent {tp!r} is not the PRODUCER span {p['traceId']}/{p['spanId']}")

seen = set()
for c in consumers:
    mid = c.get("messageId")
    p = producers.get(mid)
    if p is None:
        errors.append(f"consumer message {mid!r} has no producer line")
        continue
    if mid in seen and not at_least_once:
        errors.append(f"message {mid} consumed twice")
    seen.add(mid)
    if not trace_id.match(c.get("traceId") or "") or not span_id.match(c.get("spanId") or ""):
        errors.append(f"consumer {mid}: bad ids {c.get('traceId')!r}/{c.get('spanId')!r}")
    if mode == "child":
        if c["traceId"] != p["traceId"]:
            errors.append(f"consumer {mid}: traceId {c['traceId']} != producer traceId {p['traceId']}")
        if c.get("parentSpanId") != p["spanId"]:
            errors.append(f"consumer {mid}: parentSpanId {c.get('parentSpanId')} != producer spanId {p['spanId']}")
        # The creation context is the parent and, per the messaging conventions, also the one link.
        expected = [{"traceId": p["traceId"], "spanId": p["spanId"]}]
        if c.get("links") != expected:
            errors.append(f"consumer {mid}: links {c.get('links')} != {expected}")
    else:
        if c["traceId"] == p["traceId"]:
            errors.append(f"consumer {mid}: link mode must start a new trace, got the producer's {p['traceId']}")
        if c.get("parentSpanId") is not None:
            errors.append(f"consumer {mid}: link mode must have no parent, got {c.get('parentSpanId')}")
        expected = [{"traceId": p["traceId"], "spanId": p["spanId"]}]
        if c.get("links") != expected:
            errors.append(f"consumer {mid}: links {c.get('links')} != {expected}")
    if c.get("baggage") != baggage:
        errors.append(f"consumer {mid}: baggage {json.dumps(c.get('baggage'), ensure_ascii=False)} != {json.dumps(baggage, ensure_ascii=False)}")
    for h in expect_headers:
        if (c.get("headers") or {}).get(h) is None:
            errors.append(f"consumer {mid}: header {h!r} missing: {c.get('headers')}")
    for h in absent_headers:
        if h in (c.get("headers") or {}):
            errors.append(f"consumer {mid}: header {h!r} must be absent: {c.get('headers')}")

for e in errors:
    print("  " + e, file=sys.stderr)
missing = set(producers) - seen
if missing:
    errors.append(f"{len(missing)} message(s) never consumed, e.g. {sorted(missing)[:3]}")
if at_least_once:
    print(f"  at least once: {len(seen)} distinct of {len(producers)}, lost {len(missing)}, duplicates {len(consumers) - len(seen)}")
print(f"  {len(producers)} producer / {len(consumers)} consumer lines, mode {mode}, baggage {json.dumps(baggage, ensure_ascii=False)}: "
      + ("OK" if not errors else f"{len(errors)} problem(s)"))
sys.exit(1 if errors else 0)
PY
}

if [[ "${SKIP_BUILD:-}" != "1" ]]; then
    step "build ($CONFIGURATION)"
    dotnet build "$ROOT/samples/Producer/Producer.csproj" -c "$CONFIGURATION" -nologo -v q
    dotnet build "$ROOT/samples/Consumer/Consumer.csproj" -c "$CONFIGURATION" -nologo -v q
fi

DEMO_BAGGAGE='{"cohort":"beta","tenant.id":"acme corp+1"}'
RABBIT_BAGGAGE='{"tenant.id":"acme corp+1"}'

step "in-memory demo: Consumer with no arguments"
if consumer >"$WORK/demo.txt" 2>"$WORK/demo.err"; then
    if grep -q 'send orders' "$WORK/demo.txt" && grep -q 'process orders' "$WORK/demo.txt" \
        && grep -q 'tenant.id="acme corp+1"' "$WORK/demo.txt" && [[ "$(grep -c '^trace ' "$WORK/demo.txt")" == 3 ]]; then
        pass "exit 0; trace tree with 3 traces, producer and consumer spans, baggage"
    else
        fail "demo output lacks the trace tree"; show "$WORK/demo.txt"
    fi
else
    fail "demo exited $?"; show "$WORK/demo.txt" "$WORK/demo.err"
fi

step "in-memory demo: --json"
if consumer --json >"$WORK/demo.jsonl" 2>"$WORK/demo-json.err" && check_json child 3 "$DEMO_BAGGAGE" "$WORK/demo.jsonl"; then
    pass "consumer spans are children of their producer spans, baggage exact"
else
    fail "in-memory demo --json"; show "$WORK/demo.jsonl" "$WORK/demo-json.err"
fi

step "in-memory demo: --json --parenting link --count 4, custom baggage"
if consumer --json --parenting link --count 4 --baggage 'tenant.id=acme corp+1' --baggage 'note=50% off, ünï=code' \
        >"$WORK/demo-link.jsonl" 2>"$WORK/demo-link.err" \
    && check_json link 4 '{"note":"50% off, ünï=code","tenant.id":"acme corp+1"}' "$WORK/demo-link.jsonl"; then
    pass "new traces linked to the producer spans, baggage exact"
else
    fail "in-memory demo link"; show "$WORK/demo-link.jsonl" "$WORK/demo-link.err"
fi

step "usage errors exit 2 with nothing on stdout"
for bad in "--baggage novalue" "--baggage =value" "--transport nats" "--count 0"; do
    set +e
    # shellcheck disable=SC2086
    consumer --json $bad >"$WORK/bad.out" 2>"$WORK/bad.err"
    code=$?
    # shellcheck disable=SC2086
    producer --json $bad >"$WORK/bad-p.out" 2>"$WORK/bad-p.err"
    pcode=$?
    set -e
    if [[ $code == 2 && $pcode == 2 && ! -s "$WORK/bad.out" && ! -s "$WORK/bad-p.out" ]]; then
        pass "$bad → exit 2 ($(head -n 1 "$WORK/bad.err"))"
    else
        fail "$bad → consumer exit $code, producer exit $pcode"; show "$WORK/bad.out" "$WORK/bad.err" "$WORK/bad-p.err"
    fi
done

if [[ "${VERIFY_SKIP_RABBITMQ:-}" == "1" ]]; then
    step "RabbitMQ checks skipped (VERIFY_SKIP_RABBITMQ=1)"
    exit "$FAILED"
fi
if [[ -z "$URI" ]]; then
    echo "error: no AMQP URI: pass one (samples/verify.sh amqp://guest:guest@localhost:5672/) or set RABBITMQ_URI" >&2
    exit 2
fi

RUN_ID="verify-$(date +%s)-$$"

# rabbit_check NAME MODE ORDER [VAR=VALUE...] — ORDER: producer-first | consumer-first; VAR=VALUE set for both sides.
rabbit_check() {
    local name="$1" mode="$2" order="$3"
    shift 3
    local envs=("$@") extra=()
    local queue="$RUN_ID-$name"
    local p="$WORK/$name-producer.jsonl" c="$WORK/$name-consumer.jsonl"
    local pargs=(--uri "$URI" --queue "$queue" --count 5 --baggage "tenant.id=acme corp+1" --json)
    local cargs=(--transport rabbitmq --uri "$URI" --queue "$queue" --count 5 --parenting "$mode" --json)
    if [[ "$name" == b3 ]]; then
        extra=(--expect-header b3 --absent-header traceparent)
    fi
    if [[ "$name" == endpoints ]]; then
        # Two --uri, the first a node that is down: both sides connect to the second one.
        local dead
        dead="amqp://guest:guest@127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')/"
        pargs=(--uri "$dead" "${pargs[@]}")
        cargs=(--uri "$dead" "${cargs[@]}")
    fi

    step "RabbitMQ: $name ($order, --parenting $mode, queue $queue${envs[*]:+, ${envs[*]}})"
    local ok=1
    if [[ "$order" == consumer-first ]]; then
        (for kv in "${envs[@]+"${envs[@]}"}"; do export "${kv?}"; done; consumer "${cargs[@]}") >"$c" 2>"$c.err" &
        local cpid=$!
        PIDS+=("$cpid")
        # Wait until the worker is subscribed (it declared the queue), so the consumer really starts first.
        local waited=0
        until grep -qi 'subscribed' "$c.err" 2>/dev/null; do
            if ! kill -0 "$cpid" 2>/dev/null || ((waited >= 600)); then
                fail "consumer did not subscribe"
                ok=0
                break
            fi
            sleep 0.1
            waited=$((waited + 1))
        done
    fi

    (for kv in "${envs[@]+"${envs[@]}"}"; do export "${kv?}"; done; producer "${pargs[@]}") >"$p" 2>"$p.err" || { fail "producer exited $?"; ok=0; }

    if [[ "$order" == consumer-first ]]; then
        wait "$cpid" || { fail "consumer exited $?"; ok=0; }
    else
        (for kv in "${envs[@]+"${envs[@]}"}"; do export "${kv?}"; done; consumer "${cargs[@]}") >"$c" 2>"$c.err" || { fail "consumer exited $?"; ok=0; }
    fi

    if ((ok)) && check_json "$mode" 5 "$RABBIT_BAGGAGE" "${extra[@]+"${extra[@]}"}" "$p" "$c"; then
        pass "$name: every consumer line continues its producer line ($mode), baggage exact"
    else
        fail "$name"
        show "$p" "$c" "$p.err" "$c.err"
    fi
}

rabbit_check child child producer-first
rabbit_check consumer-first child consumer-first
rabbit_check link link producer-first
rabbit_check b3 child producer-first OTEL_PROPAGATORS=b3,baggage
rabbit_check endpoints child producer-first

# cluster_check: a quorum queue on a 3-node cluster, the node hosting its leader stopped while the samples run.
cluster_check() {
    local queue="$RUN_ID-cluster" n=600
    local p="$WORK/cluster-producer.jsonl" c="$WORK/cluster-consumer.jsonl"
    local uris=() nodes=()
    IFS=, read -r -a nodes <<<"$RABBITMQ_CLUSTER_NODENAMES"
    for u in ${RABBITMQ_CLUSTER_URIS//,/ }; do uris+=(--uri "$u"); done
    step "RabbitMQ cluster: quorum queue $queue, leader node stopped mid-stream (${#nodes[@]} nodes)"
    local ctl
    ctl="$(command -v rabbitmqctl || echo /usr/sbin/rabbitmqctl)"
    consumer --transport rabbitmq "${uris[@]}" --queue "$queue" --queue-type quorum --count "$n" --json >"$c" 2>"$c.err" &
    local cpid=$!
    PIDS+=("$cpid")
    local waited=0 ok=1
    until grep -qi 'subscribed' "$c.err" 2>/dev/null; do
        if ! kill -0 "$cpid" 2>/dev/null || ((waited >= 600)); then fail "cluster: consumer did not subscribe"; show "$c.err"; return; fi
        sleep 0.1
        waited=$((waited + 1))
    done
    producer "${uris[@]}" --queue "$queue" --queue-type quorum --count "$n" --baggage "tenant.id=acme corp+1" --json >"$p" 2>"$p.err" &
    local ppid=$!
    PIDS+=("$ppid")
    # Mid-stream: once the consumer handled a sixth of the messages (polling the output of a running process, bounded).
    waited=0
    until (($(wc -l <"$c") >= n / 6)); do
        if ! kill -0 "$cpid" 2>/dev/null || ((waited >= 1200)); then fail "cluster: the consumer did not get going"; ok=0; break; fi
        sleep 0.1
        waited=$((waited + 1))
    done
    local leader=""
    if ((ok)); then
        leader="$("$ctl" -n "${nodes[0]}" --quiet list_queues --no-table-headers name leader | awk -v q="$queue" '$1 == q { print $2 }')"
        if [[ -z "$leader" ]]; then
            fail "cluster: no leader listed for $queue"; ok=0
        else
            "$ctl" -n "$leader" stop_app >/dev/null && echo "stopped the leader's node $leader after $(wc -l <"$c") consumer lines"
        fi
    fi
    wait "$ppid" || { fail "cluster: producer exited $?"; ok=0; }
    wait "$cpid" || { fail "cluster: consumer exited $?"; ok=0; }
    [[ -n "$leader" ]] && "$ctl" -n "$leader" start_app >/dev/null
    if ((ok)) && check_json child "$n" "$RABBIT_BAGGAGE" --at-least-once "$p" "$c"; then
        pass "cluster: nothing lost across the leader's node stopping, every consumer line continues its producer line"
    else
        fail "cluster"
        show "$p" "$c" "$p.err" "$c.err"
    fi
}

if [[ -n "${RABBITMQ_CLUSTER_URIS:-}" && -n "${RABBITMQ_CLUSTER_NODENAMES:-}" ]]; then
    cluster_check
elif [[ "${VERIFY_REQUIRE_CLUSTER:-}" == "1" ]]; then
    fail "VERIFY_REQUIRE_CLUSTER=1 but RABBITMQ_CLUSTER_URIS and RABBITMQ_CLUSTER_NODENAMES are not set"
else
    step "RabbitMQ cluster check skipped (no RABBITMQ_CLUSTER_URIS / RABBITMQ_CLUSTER_NODENAMES; .ci/with-rabbitmq-node --nodes 3 sets them)"
fi

echo
if ((FAILED)); then
    echo "verify: FAILED" >&2
    exit 1
fi
echo "verify: all checks passed"
