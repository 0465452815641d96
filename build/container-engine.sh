#!/usr/bin/env bash
# A local container engine for the integration tests: Debian's podman serving the Docker Engine API, which
# Testcontainers talks to, and a RabbitMQ image built offline from Debian's packages.
#
#   build/container-engine.sh setup   install podman and friends if missing, write containers.conf, build the
#                                     RabbitMQ image unless it exists (once per machine)
#   build/container-engine.sh start   start the API service in the background (PID in a file) and wait until it answers
#   build/container-engine.sh stop    remove containers left by Testcontainers, stop the service by its PID
#   build/container-engine.sh env     print export lines for the tests: eval "$(build/container-engine.sh env)"
#   build/container-engine.sh status  say whether the service answers
#
# Every command is idempotent. Needs root (apt-get, debootstrap, rootful podman).
#
# Why the settings: this sandbox has no CAP_SYS_RESOURCE (podman's default ulimits cannot be set) and mixes
# cgroup v1 and v2 (crun refuses; runc works), the Ryuk reaper image cannot be pulled, and Testcontainers must
# reach the mapped ports on loopback rather than through the bridge gateway.
set -euo pipefail

readonly IMAGE="${MESSAGING_TESTS_RABBITMQ_IMAGE_BUILD:-localhost/debian-rabbitmq:3.10.8}"
readonly SUITE="bookworm" # the Debian release the image is built from; it ships rabbitmq-server 3.10.8
readonly CONF_DIR="/etc/messaging-container-engine"
readonly CONTAINERS_CONF_FILE="${CONF_DIR}/containers.conf"
readonly STATE_DIR="/run/messaging-container-engine"
readonly PID_FILE="${STATE_DIR}/service.pid"
readonly SERVICE_LOG="${STATE_DIR}/service.log"
readonly SOCKET="/run/podman/podman.sock"
readonly START_TIMEOUT_SECONDS=30
readonly STOP_TIMEOUT_SECONDS=15
readonly PACKAGES=(podman runc conmon netavark aardvark-dns iptables catatonit debootstrap curl)

export CONTAINERS_CONF="$CONTAINERS_CONF_FILE"

log() { echo "container-engine: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

now() { date +%s.%N; }
# elapsed START: seconds since START with one decimal.
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root (apt-get, debootstrap and rootful podman need it)"
}

# --- setup --------------------------------------------------------------------------------------------

install_packages() {
    local missing=()
    local package
    for package in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$package")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "packages: all present"
        return
    fi
    log "packages: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_containers_conf() {
    mkdir -p "$CONF_DIR"
    local content
    content=$(
        cat <<'EOF'
# Written by build/container-engine.sh for the Messaging integration tests.
[containers]
# The sandbox cannot raise the open-files limit above its hard limit (no CAP_SYS_RESOURCE).
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
# crun refuses the hybrid cgroup v1/v2 layout; runc accepts it.
runtime = "runc"

[network]
# Debian's podman also ships a CNI config whose plugins are not installed; netavark is the one in use.
network_backend = "netavark"
EOF
    )
    if [ ! -f "$CONTAINERS_CONF_FILE" ] || [ "$(cat "$CONTAINERS_CONF_FILE")" != "$content" ]; then
        printf '%s\n' "$content" >"$CONTAINERS_CONF_FILE"
        log "wrote ${CONTAINERS_CONF_FILE}"
    fi
}

# Prints the first Debian mirror URI that serves $SUITE, read from the machine's apt sources
# (deb822 *.sources files and one-line *.list files). POSIX awk only (Debian's default awk is mawk).
debian_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        awk -v suite="$SUITE" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; found = 1; exit }
            }
            END { exit found ? 0 : 1 }
        ' "$file" && return 0
    done
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        # One stanza per paragraph; fields are "Name: value" lines.
        awk -v suite="$SUITE" '
            BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""
                for (l = 1; l <= NF; l++) {
                    line = $l
                    if (line ~ /^[[:space:]]*#/) continue
                    name = tolower(line); sub(/:.*/, "", name)
                    value = line; sub(/^[^:]*:[[:space:]]*/, "", value)
                    if (name == "types") types = " " value " "
                    else if (name == "uris") uris = value
                    else if (name == "suites") suites = " " value " "
                }
                if (index(types, " deb ") && index(suites, " " suite " ") && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1; exit
                }
            }
            END { exit found ? 0 : 1 }
        ' "$file" && return 0
    done
    return 1
}

build_image() {
    local started mirror work rootfs step
    started=$(now)
    mirror=$(debian_mirror) || die "no apt source for Debian ${SUITE} in /etc/apt/sources.list or /etc/apt/sources.list.d/"
    work=$(mktemp -d /var/tmp/messaging-rabbitmq-image.XXXXXX)
    rootfs="${work}/rootfs"
    # shellcheck disable=SC2064 # expand now: the trap must clean this build's directory
    trap "umount '${rootfs}/proc' 2>/dev/null || true; rm -rf '${work}'" EXIT

    log "image: debootstrap ${SUITE} (minbase) from the machine's Debian mirror"
    step=$(now)
    if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"${work}/debootstrap.log" 2>&1; then
        tail -n 40 "${work}/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    log "image: debootstrap took $(elapsed "$step") s"

    step=$(now)
    printf '#!/bin/sh\nexit 101\n' >"${rootfs}/usr/sbin/policy-rc.d" # no service starts inside the chroot
    chmod 0755 "${rootfs}/usr/sbin/policy-rc.d"
    mount -t proc proc "${rootfs}/proc"
    if ! chroot "$rootfs" /bin/sh -c '
        set -e
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends rabbitmq-server
        apt-get clean
        rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/lib/rabbitmq/mnesia
        rm -f /var/lib/rabbitmq/.erlang.cookie # each container makes its own at first start
        rm -f /usr/sbin/policy-rc.d
    ' >"${work}/chroot.log" 2>&1; then
        tail -n 40 "${work}/chroot.log" >&2
        die "installing rabbitmq-server in the image failed"
    fi
    umount "${rootfs}/proc"
    log "image: rabbitmq-server installed in the root file system in $(elapsed "$step") s"

    step=$(now)
    tar -C "$rootfs" --numeric-owner -cf "${work}/rootfs.tar" .
    podman import \
        --change 'ENV HOME=/var/lib/rabbitmq' \
        --change 'ENV RABBITMQ_LOGS=-' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'USER rabbitmq' \
        --change 'WORKDIR /var/lib/rabbitmq' \
        --change 'EXPOSE 5672' \
        --change 'CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]' \
        "${work}/rootfs.tar" "$IMAGE" >/dev/null
    log "image: imported ${IMAGE} in $(elapsed "$step") s"

    rm -rf "$work"
    trap - EXIT
    log "image: built ${IMAGE} in $(elapsed "$started") s"
}

cmd_setup() {
    require_root
    local started
    started=$(now)
    install_packages
    write_containers_conf
    if podman image exists "$IMAGE"; then
        log "image: ${IMAGE} present"
    else
        build_image
    fi
    log "setup took $(elapsed "$started") s"
}

# --- service ------------------------------------------------------------------------------------------

socket_answers() {
    [ -S "$SOCKET" ] && [ "$(curl -sf --max-time 2 --unix-socket "$SOCKET" http://d/_ping 2>/dev/null)" = "OK" ]
}

recorded_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid=$(cat "$PID_FILE")
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

cmd_start() {
    require_root
    command -v podman >/dev/null 2>&1 || die "podman is not installed: run '$0 setup' first"
    [ -f "$CONTAINERS_CONF_FILE" ] || die "${CONTAINERS_CONF_FILE} is missing: run '$0 setup' first"
    local started pid
    started=$(now)
    if pid=$(recorded_pid) && socket_answers; then
        log "service: already running (PID ${pid})"
        return
    fi
    if socket_answers; then
        log "service: ${SOCKET} is already served by a process this script did not start; using it"
        return
    fi
    mkdir -p "$STATE_DIR" "$(dirname "$SOCKET")"
    rm -f "$SOCKET"
    # A new session, no terminal, stdin closed: the service outlives this shell and is stopped by its PID.
    setsid podman system service --time=0 "unix://${SOCKET}" </dev/null >"$SERVICE_LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$PID_FILE"
    local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    until socket_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$SERVICE_LOG" >&2
            rm -f "$PID_FILE"
            die "the podman API service exited before answering"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            cat "$SERVICE_LOG" >&2
            die "the podman API service did not answer on ${SOCKET} within ${START_TIMEOUT_SECONDS} s (PID ${pid}, left running; '$0 stop' stops it)"
        fi
        sleep 0.2
    done
    log "service: podman API on unix://${SOCKET} (PID ${pid}, log ${SERVICE_LOG}), answered after $(elapsed "$started") s"
}

remove_test_containers() {
    command -v podman >/dev/null 2>&1 || return 0
    local ids
    ids=$(podman ps -aq --filter label=org.testcontainers=true 2>/dev/null || true)
    if [ -n "$ids" ]; then
        log "removing containers left by Testcontainers: $(echo "$ids" | tr '\n' ' ')"
        # shellcheck disable=SC2086 # one id per word
        podman rm -f -t 5 $ids >/dev/null
    fi
}

# Prints the PIDs of conmon processes that monitor an exec session (rabbitmqctl run through the API) of a container
# that no longer exists. Podman keeps such a monitor for exit_command_delay (300 s) after the exec ends, even when the
# container is removed in the meantime; nothing needs it then.
orphaned_exec_monitors() {
    command -v podman >/dev/null 2>&1 || return 0
    local pid args id
    for pid in $(pgrep -x conmon || true); do
        args=$(tr '\0' '\n' <"/proc/${pid}/cmdline" 2>/dev/null) || continue
        grep -qx -- '--exec-attach' <<<"$args" || continue
        id=$(awk 'previous == "-c" { print; exit } { previous = $0 }' <<<"$args")
        [ -n "$id" ] || continue
        podman container exists "$id" 2>/dev/null && continue
        echo "$pid"
    done
}

stop_orphaned_exec_monitors() {
    local pids
    pids=$(orphaned_exec_monitors)
    [ -n "$pids" ] || return 0
    log "stopping exec-session monitors of removed containers (PIDs $(echo "$pids" | tr '\n' ' '))"
    # shellcheck disable=SC2086 # one PID per word
    kill -TERM $pids 2>/dev/null || true
}

cmd_stop() {
    require_root
    remove_test_containers
    stop_orphaned_exec_monitors
    local pid
    if ! pid=$(recorded_pid); then
        rm -f "$PID_FILE"
        log "service: not running (no live PID in ${PID_FILE})"
        return
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "service: PID ${pid} still running after ${STOP_TIMEOUT_SECONDS} s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$PID_FILE" "$SOCKET"
    log "service: stopped (PID ${pid})"
}

cmd_status() {
    local pid
    if socket_answers; then
        if pid=$(recorded_pid); then
            echo "running (PID ${pid}) on unix://${SOCKET}"
        else
            echo "answering on unix://${SOCKET} (not started by this script)"
        fi
    else
        echo "not running"
        return 1
    fi
}

cmd_env() {
    cat <<EOF
export DOCKER_HOST=unix://${SOCKET}
export CONTAINERS_CONF=${CONTAINERS_CONF_FILE}
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export MESSAGING_TESTS_RABBITMQ_IMAGE=${IMAGE}
EOF
}

case "${1:-}" in
    setup) cmd_setup ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
        echo "usage: $0 setup|start|stop|status|env" >&2
        exit 2
        ;;
esac
