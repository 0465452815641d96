#!/usr/bin/env bash
# End-to-end check of the samples' command-line contract on Azure Service Bus (see samples/README.md), against the
# in-process test broker run as its console program (tests/Messaging.ServiceBus.TestBroker), with the unmodified SDK:
#
#   samples/verify-servicebus.sh
#
# Checks, each failing the script with a non-zero exit on any mismatch:
#   1. Producer then Consumer on a queue, --parenting child and link;
#   2. Consumer first on a topic subscription (--topic T --subscription S), Producer to the topic;
#   3. usage errors exit 2 with nothing on stdout (no connection string; --topic without --subscription).
# Every consumer line has its producer line's traceId and parentSpanId = the producer's spanId (or, with link, a new
# trace), one link to the producer context, and exactly the baggage sent (the JSON-lines rules of samples/verify.sh).
#
# Environment: CONFIGURATION (Debug), SKIP_BUILD=1, RUN_TIMEOUT seconds per run (120). Needs bash, coreutils `timeout`,
# python3 and the .NET SDK. The broker is stopped by its PID at exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGURATION="${CONFIGURATION:-Debug}"
RUN_TIMEOUT="${RUN_TIMEOUT:-120}"
WORK="$(mktemp -d)"
PIDS=()
BROKER_PID=""
FAILED=0

cleanup() {
    for pid in "${PIDS[@]:-}"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    if [[ -n "$BROKER_PID" ]]; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    FAILED=1
}
show() {
    for f in "$@"; do
        printf -- '---- %s\n' "$f" >&2
        tail -n 40 "$f" >&2 || true
    done
}

producer() { timeout "$RUN_TIMEOUT" dotnet run --no-build -c "$CONFIGURATION" --project "$ROOT/samples/Producer" -- "$@"; }
consumer() { timeout "$RUN_TIMEOUT" dotnet run --no-build -c "$CONFIGURATION" --project "$ROOT/samples/Consumer" -- "$@"; }

# The JSON-lines check of samples/verify.sh, shared rather than copied.
eval "$(sed -n '/^check_json() {$/,/^}$/p' "$ROOT/samples/verify.sh")"

if [[ "${SKIP_BUILD:-}" != "1" ]]; then
    step "build ($CONFIGURATION)"
    dotnet build "$ROOT/samples/Producer/Producer.csproj" -c "$CONFIGURATION" -nologo -v q
    dotnet build "$ROOT/samples/Consumer/Consumer.csproj" -c "$CONFIGURATION" -nologo -v q
    dotnet build "$ROOT/tests/Messaging.ServiceBus.TestBroker/Messaging.ServiceBus.TestBroker.csproj" -c "$CONFIGURATION" -nologo -v q
fi

step "test broker: start (console program)"
BROKER="$ROOT/tests/Messaging.ServiceBus.TestBroker/bin/$CONFIGURATION/net10.0/Messaging.ServiceBus.TestBroker"
"$BROKER" --port 0 --queue orders-child --queue orders-link --topic events --subscription audit --ignore-stdin \
    >"$WORK/broker.out" 2>"$WORK/broker.err" </dev/null &
BROKER_PID=$!
waited=0
until [[ -s "$WORK/broker.out" ]]; do
    if ! kill -0 "$BROKER_PID" 2>/dev/null || ((waited >= 300)); then
        echo "error: the test broker did not print its connection string" >&2
        show "$WORK/broker.err"
        exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
done
CS="$(head -n 1 "$WORK/broker.out")"
pass "listening (pid $BROKER_PID): $CS"

BAGGAGE='{"tenant.id":"acme corp+1"}'

# queue_check NAME MODE: Producer then Consumer on queue orders-NAME.
queue_check() {
    local name="$1" mode="$2" queue="orders-$1"
    local p="$WORK/$name-producer.jsonl" c="$WORK/$name-consumer.jsonl"
    step "Service Bus: queue $queue, producer first, --parenting $mode"
    if producer --transport servicebus --connection-string "$CS" --queue "$queue" --count 5 --baggage "tenant.id=acme corp+1" --json >"$p" 2>"$p.err" \
        && consumer --transport servicebus --connection-string "$CS" --queue "$queue" --count 5 --parenting "$mode" --json >"$c" 2>"$c.err" \
        && check_json "$mode" 5 "$BAGGAGE" "$p" "$c"; then
        pass "$name: every consumer line continues its producer line ($mode), baggage exact"
    else
        fail "$name"
        show "$p" "$c" "$p.err" "$c.err"
    fi
}

queue_check child child
queue_check link link

step "Service Bus: topic events, subscription audit, consumer first"
p="$WORK/topic-producer.jsonl"
c="$WORK/topic-consumer.jsonl"
consumer --transport servicebus --connection-string "$CS" --topic events --subscription audit --count 3 --json >"$c" 2>"$c.err" &
cpid=$!
PIDS+=("$cpid")
waited=0
ok=1
until grep -q "processing 'events/Subscriptions/audit'" "$c.err" 2>/dev/null; do
    if ! kill -0 "$cpid" 2>/dev/null || ((waited >= 600)); then
        fail "consumer did not start processing"
        ok=0
        break
    fi
    sleep 0.1
    waited=$((waited + 1))
done
producer --transport servicebus --connection-string "$CS" --topic events --count 3 --baggage "tenant.id=acme corp+1" --json >"$p" 2>"$p.err" || { fail "producer exited $?"; ok=0; }
wait "$cpid" || { fail "consumer exited $?"; ok=0; }
if ((ok)) && check_json child 3 "$BAGGAGE" "$p" "$c"; then
    pass "topic: every consumer line continues its producer line, baggage exact"
else
    fail "topic"
    show "$p" "$c" "$p.err" "$c.err"
fi

step "usage errors exit 2 with nothing on stdout"
for bad in "--transport servicebus" "--transport servicebus --connection-string $CS --topic events"; do
    set +e
    # shellcheck disable=SC2086
    SERVICEBUS_CONNECTION_STRING='' consumer --json $bad >"$WORK/bad.out" 2>"$WORK/bad.err"
    code=$?
    set -e
    if [[ $code == 2 && ! -s "$WORK/bad.out" ]]; then
        pass "consumer ${bad%%;*} → exit 2 ($(head -n 1 "$WORK/bad.err"))"
    else
        fail "consumer $bad → exit $code"; show "$WORK/bad.out" "$WORK/bad.err"
    fi
done
set +e
SERVICEBUS_CONNECTION_STRING='' producer --json --transport servicebus >"$WORK/bad-p.out" 2>"$WORK/bad-p.err"
code=$?
set -e
if [[ $code == 2 && ! -s "$WORK/bad-p.out" ]]; then
    pass "producer --transport servicebus without a connection string → exit 2"
else
    fail "producer without a connection string → exit $code"; show "$WORK/bad-p.out" "$WORK/bad-p.err"
fi

echo
if ((FAILED)); then
    echo "verify-servicebus: FAILED" >&2
    exit 1
fi
echo "verify-servicebus: all checks passed"
