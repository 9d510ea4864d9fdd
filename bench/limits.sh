#!/usr/bin/env bash
# What the plans' rate limits cost a read: get-incident through vegeta over
# many organizations' keys, with rate limits on and off, on this working
# tree and on another revision (BEFORE), all in one run: four servers, each
# on its own SQLite file seeded with the same number of organizations,
# measured in alternating rounds while the other three are paused; and the
# bare handler (bench/baseline, holding as many incidents) in the same
# rotation, the floor the gets are read against.
#
#   bench/limits.sh [SECONDS]          # SECONDS per round, default 8
#
# Environment:
#   BEFORE=main       the revision to compare with ("" measures this tree only)
#   TENANTS=1000      organizations (enterprise plan, 1,000 requests a minute each),
#                     each with a live key and one incident; the gets cycle through them
#   ROUNDS=2          rounds; each measures every server once, in an order that rotates
#   WORKERS=32        vegeta workers
#   RATE=0            0: closed loop (each worker sends its next get when answered);
#                     else an open loop at RATE gets a second
#   WARMUP=1          seconds of unreported load on each server first
#   VEGETA=path       as in bench/http.sh
#   BARE=1            0 leaves the bare handler out
#
# Keep the load within the plans: a server sees at most two rounds (and its
# warmup) in a minute, so each organization gets about
# 2 × SECONDS × req/s ÷ TENANTS requests a minute, which must stay under
# 1,000 or the gets with rate limits on are refused (the ok column says so).
set -euo pipefail

secs=${1:-8}
before=${BEFORE-main}
tenants=${TENANTS:-1000}
rounds=${ROUNDS:-2}
workers=${WORKERS:-32}
rate=${RATE:-0}
warmup=${WARMUP:-1}
bare=${BARE:-1}

script=limits.sh
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
posint "$secs" || die "SECONDS must be a positive integer, not '$secs'"
posint "$tenants" || die "TENANTS must be a positive integer, not '$tenants'"
posint "$rounds" || die "ROUNDS must be a positive integer, not '$rounds'"
posint "$workers" || die "WORKERS must be a positive integer, not '$workers'"
isint "$rate" || die "RATE must be a whole number of requests a second, not '$rate'"
isint "$warmup" || die "WARMUP must be a whole number of seconds, not '$warmup'"
command -v go >/dev/null || die "needs go on PATH"
command -v curl >/dev/null || die "needs curl on PATH"
command -v git >/dev/null || die "needs git on PATH"

cd "$root"
start_work limits-bench

find_vegeta

# --- builds: the server and the seeding tool of each revision ----------------
builds=(after)
go build -o "$work/after/sety-server" ./examples/server || die "./examples/server does not build"
go build -o "$work/after/tenants" ./bench/tenants || die "./bench/tenants does not build"
if [[ -n $before ]]; then
	rev=$(git rev-parse --short "$before^{commit}") || die "BEFORE=$before is not a revision"
	mkdir -p "$work/src"
	git archive "$rev" | tar -x -C "$work/src"
	# The seeding tool uses only the library's public API: build this tree's
	# copy against that revision, so the file gets that revision's schema.
	mkdir -p "$work/src/bench/tenants"
	cp bench/tenants/main.go "$work/src/bench/tenants/main.go"
	(cd "$work/src" && go build -o "$work/before/sety-server" ./examples/server && go build -o "$work/before/tenants" ./bench/tenants) ||
		die "revision $rev does not build"
	builds=(before after)
fi

# --- servers: each build with rate limits on and off ------------------------
names=()
declare -A pid addr
for build in "${builds[@]}"; do
	for limits in on off; do
		name=$build-$limits
		names+=("$name")
		"$work/$build/tenants" -n "$tenants" -db "$work/$name.db" >"$work/$name.keys" || die "seeding $name failed"
		enabled=true
		[[ $limits == off ]] && enabled=false
		(cd "$work" && exec env SETY_DB="$work/$name.db" SETY_RATE_LIMITS=$enabled SETY_ADDR=127.0.0.1:0 \
			"$work/$build/sety-server" >"$work/$name.log" 2>&1) &
		pid[$name]=$!
		pids+=("${pid[$name]}")
		addr[$name]=$(wait_addr "$name server" "${pid[$name]}" "$work/$name.log")
		while read -r key id; do
			printf 'GET http://%s/v1/external/incidents/%s\nAuthorization: Bearer %s\n\n' "${addr[$name]}" "$id" "$key"
		done <"$work/$name.keys" >"$work/$name.targets"
		kill -STOP "${pid[$name]}"
	done
done
if [[ $bare == 1 ]]; then
	# The bare handler: the same gets (one incident per organization, any
	# key) with no storage, auth or framework.
	go build -o "$work/baseline" ./bench/baseline || die "./bench/baseline does not build"
	(exec "$work/baseline" -addr 127.0.0.1:0 >"$work/bare.log" 2>&1) &
	pid[bare]=$!
	pids+=("${pid[bare]}")
	addr[bare]=$(wait_addr "bare handler" "${pid[bare]}" "$work/bare.log")
	body='{"category":"vehicle","severity":"high","title":"Vehicle emergency reported by rider","location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street, Victoria Island, Lagos"}}'
	while read -r key _; do
		id=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary "$body" "http://${addr[bare]}/v1/external/incidents" |
			grep -o '"incident_id":"[^"]*"' | head -1 | cut -d'"' -f4)
		[[ -n $id ]] || die "the bare handler did not create an incident"
		printf 'GET http://%s/v1/external/incidents/%s\nAuthorization: Bearer %s\n\n' "${addr[bare]}" "$id" "$key"
	done <"$work/after-on.keys" >"$work/bare.targets"
	kill -STOP "${pid[bare]}"
	names+=(bare)
fi
echo "servers: ${names[*]}${before:+ (before: $before at $rev)}; $tenants organizations each, SQLite synchronous=FULL"
echo "load: $VEGETA, $workers workers, $([[ $rate == 0 ]] && echo "closed loop" || echo "open loop at $rate/s"), ${secs}s rounds, $rounds rounds; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# commits NAME: the server's committed write batches so far (/metrics).
commits() {
	curl -s "http://${addr[$1]}/metrics" | awk '$1 == "sety_store_commit_seconds_count" { print $2; found = 1 } END { if (!found) print 0 }'
}

# attack NAME SECONDS: drives one server (resumed for it, paused after);
# prints "rps p50_ms p99_ms ok_pct cpu_pct cpu_us_per_req commits_per_req".
attack() {
	local name=$1 dur=$2 p=${pid[$1]} c0 c1 t0 t1 k0 k1 f=$work/report.json
	kill -CONT "$p"
	k0=$(commits "$name")
	c0=$(cpu_ticks "$p")
	t0=$(now_ns)
	if [[ $rate == 0 ]]; then
		"$VEGETA" attack -targets="$work/$name.targets" -rate=0 -workers="$workers" -max-workers="$workers" -duration="${dur}s" >"$work/results.bin"
	else
		"$VEGETA" attack -targets="$work/$name.targets" -rate="$rate" -workers="$workers" -duration="${dur}s" >"$work/results.bin"
	fi
	t1=$(now_ns)
	c1=$(cpu_ticks "$p")
	k1=$(commits "$name")
	kill -STOP "$p"
	"$VEGETA" report -type=json <"$work/results.bin" >"$f"
	awk -v rps="$(report_field "$f" throughput)" -v p50="$(report_field "$f" 50th)" -v p99="$(report_field "$f" 99th)" \
		-v ok="$(report_field "$f" success)" -v n="$(report_field "$f" requests)" -v c="$((c1 - c0))" -v hz="$clk_tck" \
		-v ns="$((t1 - t0))" -v k="$((k1 - k0))" \
		'BEGIN { printf "%.0f %.2f %.2f %.1f %.0f %.1f %.3f\n", rps, p50 / 1e6, p99 / 1e6, 100 * ok, 100 * (c / hz) / (ns / 1e9), 1e6 * (c / hz) / n, k / n }'
}

show() {
	read -r rps p50 p99 ok cpu us commits <<<"$2"
	printf '  %-10s %7s req/s  p50 %6s ms  p99 %6s ms  ok %5s%%  server cpu %4s%%  %6s µs cpu/get  %5s commits/get\n' \
		"$1" "$rps" "$p50" "$p99" "$ok" "$cpu" "$us" "$commits"
	if [[ $ok != 100.0 ]]; then
		echo "             status codes $(grep -o '"status_codes":{[^}]*}' "$work/report.json" | cut -d: -f2-)"
	fi
}

if ((warmup > 0)); then
	for name in "${names[@]}"; do attack "$name" "$warmup" >/dev/null; done
fi
: >"$work/all"
for ((r = 1; r <= rounds; r++)); do
	echo "round $r/$rounds"
	n=${#names[@]}
	for ((i = 0; i < n; i++)); do
		name=${names[$(((i + r - 1) % n))]}
		line=$(attack "$name" "$secs")
		show "$name" "$line"
		echo "$name $r $line" >>"$work/all"
	done
done
for name in "${names[@]}"; do
	errors=$(grep -cE 'level=(ERROR|WARN)' "$work/$name.log" || true)
	((errors == 0)) || echo "$name log: $errors ERROR/WARN lines, e.g. $(grep -m1 -E 'level=(ERROR|WARN)' "$work/$name.log" | cut -c1-200)"
done

# Medians over rounds per server, then the ratios that answer the question.
awk "$awk_median"'
{ for (f = 3; f <= 9; f++) v[$1, f, $2] = $f; nr[$1] = $2 > nr[$1] ? $2 : nr[$1]; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
END {
	print "\nmedians over rounds:"
	for (o = 1; o <= k; o++) {
		s = order[o]
		for (f = 3; f <= 9; f++) { delete a; for (r = 1; r <= nr[s]; r++) a[r] = v[s, f, r]; m[s, f] = median(a, nr[s]) }
		printf "  %-10s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  ok %5.1f%%  server cpu %4.0f%%  %6.1f µs cpu/get  %5.3f commits/get\n",
			s, m[s, 3], m[s, 4], m[s, 5], m[s, 6], m[s, 7], m[s, 8], m[s, 9]
	}
	for (b = 1; b <= 2; b++) {
		build = b == 1 ? "before" : "after"
		if (!((build "-on") in seen)) continue
		printf "%s: limits on / off: throughput %.2fx, cpu per get %.2fx\n", build,
			m[build "-on", 3] / m[build "-off", 3], m[build "-on", 8] / m[build "-off", 8]
	}
	if (("before-on") in seen)
		printf "after / before with limits on: throughput %.2fx, cpu per get %.2fx\n",
			m["after-on", 3] / m["before-on", 3], m["after-on", 8] / m["before-on", 8]
	if (("bare") in seen) {
		# paired by round: the servers of one round ran in the same minute
		for (b = 1; b <= 2; b++) {
			build = b == 1 ? "before" : "after"
			if (!((build "-on") in seen)) continue
			delete a; for (r = 1; r <= nr["bare"]; r++) a[r] = v[build "-on", 3, r] / v["bare", 3, r]
			printf "%s, limits on / bare handler: throughput %.2fx (median of per-round ratios)\n", build, median(a, nr["bare"])
		}
	}
}' "$work/all"
