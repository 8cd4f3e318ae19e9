#!/usr/bin/env bash
# fleet-bench.sh: measure firmware-sim fleets on this machine, as issue 4
# asks: 500 buses on PTYs, and 5,000 buses publishing to MQTT (a Mosquitto
# started here on a free port; with a pool of 8 connections, the same with
# emulated u-blox receivers unless EMULATED=0, and, unless
# SKIP_PER_VEHICLE=1, with one connection per bus), and with HUB=1 also
# 5,000 buses into the hub's embedded broker (the hub tracking them all),
# and with CLUSTER=1 into three clustered hubs.
#
# For each run it reports, over a steady window of SECS seconds after WARM
# seconds of start-up: CPU (user+sys seconds per wall second, from
# /proc/PID/stat; 1.00 = one core), peak RSS (VmHWM), and the fixes per
# second the simulator achieved (from its status line), for the simulator
# and the broker.
#
#   scripts/fleet-bench.sh            # SECS=60 WARM=15 by default
#   SECS=20 scripts/fleet-bench.sh    # quicker
#   HUBS_ONLY=1 HUB=1 CLUSTER=1 scripts/fleet-bench.sh   # one hub, then three
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-60}
WARM=${WARM:-15}
PTYS=${PTYS:-500}
MQTT_VEHICLES=${MQTT_VEHICLES:-5000}
FEED=${FEED:-configs/demo-feed}
CLK=$(getconf CLK_TCK)

# Each PTY costs the simulator two descriptors, each MQTT connection one in
# the simulator and one in the broker.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo);" \
  "pty max $(cat /proc/sys/kernel/pty/max) (in use $(cat /proc/sys/kernel/pty/nr)); ulimit -n $(ulimit -n)"

go build -o bin/firmware-sim ./firmware-sim
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime
hwm_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listening on port $1" >&2; return 1
}

# fixes_rate LOG: fixes per second between the first and the last status
# lines ("HH:MM:SS vehicles ... | fixes N | ...").
fixes_rate() {
  grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2} vehicles' "$1" | awk '
    { split($1, t, ":"); s = t[1]*3600 + t[2]*60 + t[3]
      for (i = 1; i <= NF; i++) if ($i == "fixes" && $(i+1) ~ /^[0-9]+$/) n = $(i+1)
      if (first == "") { first = s; n0 = n } last = s; n1 = n }
    END { if (last > first) printf "%.0f", (n1 - n0) / (last - first); else printf "n/a" }'
}

# measure NAME SIM_PID [BROKER_PID BROKER_NAME]: sample CPU over the window,
# then stop the simulator and report.
measure() {
  local name=$1 sim=$2 broker=${3:-} bname=${4:-broker}
  sleep "$WARM"
  local s0 b0=0 s1 b1=0
  s0=$(cpu_ticks "$sim"); [ -n "$broker" ] && b0=$(cpu_ticks "$broker")
  sleep "$SECS"
  s1=$(cpu_ticks "$sim"); [ -n "$broker" ] && b1=$(cpu_ticks "$broker")
  local shwm bhwm=""
  shwm=$(hwm_mb "$sim"); [ -n "$broker" ] && bhwm=$(hwm_mb "$broker")
  kill -INT "$sim"; wait "$sim" || true
  printf '%-44s sim: cpu %.2f cores, peak RSS %s MB, fixes/s %s' "$name" \
    "$(echo "($s1 - $s0) / $CLK / $SECS" | bc -l)" "$shwm" "$(fixes_rate "$tmp/$name.log")"
  if [ -n "$broker" ]; then
    printf ' | %s: cpu %.2f cores, peak RSS %s MB' "$bname" "$(echo "($b1 - $b0) / $CLK / $SECS" | bc -l)" "$bhwm"
  fi
  printf '\n'
  grep -E 'level=(WARN|ERROR)' "$tmp/$name.log" | tail -2 || true
  echo "  last status: $(grep -E ' vehicles [0-9]' "$tmp/$name.log" | tail -1)"
  echo "  load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

start_mosquitto() {
  local port=$1
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 10000\n' "$port" > "$tmp/mosquitto.conf"
  /usr/sbin/mosquitto -c "$tmp/mosquitto.conf" > "$tmp/mosquitto.log" 2>&1 &
  mosq=$!; pids+=("$mosq")
  wait_port "$port"
}

# HUBS_ONLY=1 skips 1-3, for the hub and cluster figures alone.
if [ "${HUBS_ONLY:-0}" != 1 ]; then
# 1. PTYs. No agent reads them: the simulator's writes find the PTY full
# after about five seconds and drop the backlog (counted as overruns), as a
# receiver nobody listens to would.
bin/firmware-sim fleet -feed "$FEED" -vehicles "$PTYS" -pty -link "$tmp/gps" > "$tmp/ptys.out" 2> "$tmp/pty-$PTYS.log" &
sim=$!; pids+=("$sim")
measure "pty-$PTYS" "$sim"
echo "  ($(wc -l < "$tmp/ptys.out") PTYs announced)"

if ! [ -x /usr/sbin/mosquitto ]; then
  echo "no /usr/sbin/mosquitto: skipping the MQTT fleets" >&2
  MOSQUITTO=0
fi

# 2. MQTT, a pool of 8 connections.
if [ "${MOSQUITTO:-1}" = 1 ]; then
port=$(free_port); start_mosquitto "$port"
bin/firmware-sim fleet -feed "$FEED" -vehicles "$MQTT_VEHICLES" -mqtt "tcp://127.0.0.1:$port" -clients 8 \
  > /dev/null 2> "$tmp/mqtt-$MQTT_VEHICLES-pool8.log" &
sim=$!; pids+=("$sim")
measure "mqtt-$MQTT_VEHICLES-pool8" "$sim" "$mosq" mosquitto
kill "$mosq"; wait "$mosq" 2>/dev/null || true

# 2b. The same with emulated u-blox receivers: every epoch's sentences
# (RMC, GGA, GSA, GSV...) formatted and decoded again as the agent would.
if [ "${EMULATED:-1}" = 1 ]; then
  port=$(free_port); start_mosquitto "$port"
  bin/firmware-sim fleet -feed "$FEED" -vehicles "$MQTT_VEHICLES" -mqtt "tcp://127.0.0.1:$port" -clients 8 \
    -profile ublox-m8 -noise 2 > /dev/null 2> "$tmp/mqtt-$MQTT_VEHICLES-pool8-ublox.log" &
  sim=$!; pids+=("$sim")
  measure "mqtt-$MQTT_VEHICLES-pool8-ublox" "$sim" "$mosq" mosquitto
  kill "$mosq"; wait "$mosq" 2>/dev/null || true
fi

# 3. MQTT, one connection per bus, as 5,000 agents.
if [ "${SKIP_PER_VEHICLE:-0}" != 1 ]; then
  port=$(free_port); start_mosquitto "$port"
  bin/firmware-sim fleet -feed "$FEED" -vehicles "$MQTT_VEHICLES" -mqtt "tcp://127.0.0.1:$port" -clients 0 \
    > /dev/null 2> "$tmp/mqtt-$MQTT_VEHICLES-per-vehicle.log" &
  sim=$!; pids+=("$sim")
  measure "mqtt-$MQTT_VEHICLES-per-vehicle" "$sim" "$mosq" mosquitto
  kill "$mosq"; wait "$mosq" 2>/dev/null || true
fi
fi # MOSQUITTO

fi # HUBS_ONLY

# 4. The hub's embedded broker, the hub tracking every bus.
if [ "${HUB:-0}" = 1 ]; then
  go build -o "$tmp/hub" ./hub
  port=$(free_port); http=$(free_port)
  sed -e "s|^  listen: 127.0.0.1:8080|  listen: 127.0.0.1:$http|" -e "s|^  listen: 127.0.0.1:1883|  listen: 127.0.0.1:$port|" \
    -e "s|^gtfs: .*|gtfs: $FEED|" configs/hub.yaml > "$tmp/hub.yaml"
  "$tmp/hub" serve -config "$tmp/hub.yaml" > "$tmp/hub.log" 2>&1 &
  hub=$!; pids+=("$hub")
  wait_port "$port"
  bin/firmware-sim fleet -feed "$FEED" -vehicles "$MQTT_VEHICLES" -mqtt "tcp://127.0.0.1:$port" -clients 8 \
    > /dev/null 2> "$tmp/hub-$MQTT_VEHICLES-pool8.log" &
  sim=$!; pids+=("$sim")
  measure "hub-$MQTT_VEHICLES-pool8" "$sim" "$hub" hub
  kill "$hub"; wait "$hub" 2>/dev/null || true
fi

# 5. Three hubs in one cluster (CLUSTER=1), the fleet split over them (each
# third lists its own hub first). Every hub tracks every bus today, so each
# hub's work is the whole fleet's: the figure partitions (issue 13) must cut.
if [ "${CLUSTER:-0}" = 1 ]; then
  go build -o "$tmp/hub" ./hub
  declare -a mq ht rp hubs sims
  for i in 0 1 2; do mq[$i]=$(free_port); ht[$i]=$(free_port); rp[$i]=$(free_port); done
  routes="[nats-route://127.0.0.1:${rp[0]}, nats-route://127.0.0.1:${rp[1]}, nats-route://127.0.0.1:${rp[2]}]"
  for i in 0 1 2; do
    mkdir -p "$tmp/hub$i"
    printf 'gtfs: %s\nstate: %s\nhttp: {listen: "127.0.0.1:%s"}\nmqtt: {listen: "127.0.0.1:%s"}\ncluster: {name: bench, node: hub-%s, listen: "127.0.0.1:%s", routes: %s, secret: bench-route-secret-0123}\n' \
      "$FEED" "$tmp/hub$i/model.json" "${ht[$i]}" "${mq[$i]}" "$i" "${rp[$i]}" "$routes" > "$tmp/hub$i.yaml"
    chmod 600 "$tmp/hub$i.yaml" # it holds the cluster's secret
    "$tmp/hub" serve -config "$tmp/hub$i.yaml" > "$tmp/hub$i.log" 2>&1 &
    hubs[$i]=$!; pids+=("${hubs[$i]}")
  done
  for i in 0 1 2; do
    for _ in $(seq 600); do curl -fs "http://127.0.0.1:${ht[$i]}/healthz" > /dev/null && break; sleep 0.1; done
  done
  per=$((MQTT_VEHICLES / 3))
  for i in 0 1 2; do
    urls="tcp://127.0.0.1:${mq[$i]},tcp://127.0.0.1:${mq[$(((i + 1) % 3))]},tcp://127.0.0.1:${mq[$(((i + 2) % 3))]}"
    bin/firmware-sim fleet -feed "$FEED" -vehicles "$per" -name "f$i-" -client-id "sim-$i" -seed $((i + 1)) -mqtt "$urls" -clients 3 \
      > /dev/null 2> "$tmp/cluster-fleet$i.log" &
    sims[$i]=$!; pids+=("${sims[$i]}")
  done
  accepted() { curl -fs "http://127.0.0.1:$1/metrics" | awk '/^headway_vehicle_messages_total\{result="accepted"\}/ { print $2 }'; }
  sleep "$WARM"
  declare -a h0 a0 s0
  for i in 0 1 2; do h0[$i]=$(cpu_ticks "${hubs[$i]}"); a0[$i]=$(accepted "${ht[$i]}"); s0[$i]=$(cpu_ticks "${sims[$i]}"); done
  sleep "$SECS"
  simcpu=0
  for i in 0 1 2; do
    printf 'cluster-%s hub-%s: cpu %.2f cores, peak RSS %s MB, positions applied %.0f/s\n' "$MQTT_VEHICLES" "$i" \
      "$(echo "($(cpu_ticks "${hubs[$i]}") - ${h0[$i]}) / $CLK / $SECS" | bc -l)" "$(hwm_mb "${hubs[$i]}")" \
      "$(echo "($(accepted "${ht[$i]}") - ${a0[$i]}) / $SECS" | bc -l)"
    simcpu=$(echo "$simcpu + ($(cpu_ticks "${sims[$i]}") - ${s0[$i]}) / $CLK / $SECS" | bc -l)
  done
  printf 'cluster-%s simulators: cpu %.2f cores in all; fixes/s %s + %s + %s\n' "$MQTT_VEHICLES" "$simcpu" \
    "$(fixes_rate "$tmp/cluster-fleet0.log")" "$(fixes_rate "$tmp/cluster-fleet1.log")" "$(fixes_rate "$tmp/cluster-fleet2.log")"
  echo "  load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  grep -hE 'level=(WARN|ERROR)' "$tmp"/hub?.log | tail -3 || true
  for i in 0 1 2; do kill -INT "${sims[$i]}" "${hubs[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
fi
