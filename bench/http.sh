#!/usr/bin/env bash
# Side-by-side HTTP benchmark: Sety's example server against a bare net/http
# server with the same request and response shapes (bench/baseline) and
# against the durable baseline (bench/baseline -db: the same server keeping
# each incident as one JSON row plus one event row on SQLite, synchronous=FULL,
# through Sety's group commit), driven by the same load tool (vegeta) in
# rounds whose order rotates, on loopback.
#
#   bench/http.sh [SECONDS]            # from anywhere in the repository; SECONDS per round, default 8
#
# Environment:
#   ROUNDS=2          rounds per operation (each round runs the three servers, order rotating)
#   WORKERS=32        vegeta workers (closed loop: as fast as the server answers)
#   OPS=create,get    operations to run, in order: create (POST /incidents), get (GET /incidents/{id})
#   WARMUP=1          seconds of unreported load on each server before the first round
#   IDLE_CHECK=5      seconds to measure sety's CPU while idle after the rounds (0: skip)
#   VEGETA=path       use this vegeta; otherwise one on PATH, else it is installed (go install)
#                     into ${XDG_CACHE_HOME:-~/.cache}/sety-bench/
#   SETY_*            passed through to the server (SETY_MEMORY=1, SETY_DB=..., later
#                     SETY_DATABASE_URL=...). The script sets SETY_ADDR, and, unless you do,
#                     SETY_DB (a temp file), SETY_RATE_LIMITS=false and the bootstrap keys.
#
# Creates use the live key: with no responder pool (the default) they queue
# in dispatching, as a fresh server's live incidents do. Everything else is
# the server's defaults (SQLite in WAL with synchronous=FULL). Sety is
# paused (SIGSTOP) while a baseline's round runs, so its background work
# does not slow the baseline.
set -euo pipefail

secs=${1:-8}
rounds=${ROUNDS:-2}
workers=${WORKERS:-32}
ops=${OPS:-create,get}
warmup=${WARMUP:-1}
idle_check=${IDLE_CHECK:-5}

script=http.sh
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
posint "$secs" || die "SECONDS must be a positive integer, not '$secs'"
posint "$rounds" || die "ROUNDS must be a positive integer, not '$rounds'"
posint "$workers" || die "WORKERS must be a positive integer, not '$workers'"
isint "$warmup" || die "WARMUP must be a whole number of seconds, not '$warmup'"
isint "$idle_check" || die "IDLE_CHECK must be a whole number of seconds, not '$idle_check'"
IFS=, read -r -a oplist <<<"$ops"
for op in "${oplist[@]}"; do
	[[ $op == create || $op == get ]] || die "OPS takes create and get, not '$op'"
done
command -v go >/dev/null || die "needs go on PATH"
command -v curl >/dev/null || die "needs curl on PATH"

cd "$root"
start_work http-bench

find_vegeta

# --- build and start --------------------------------------------------------
go build -o "$work/sety-server" ./examples/server || die "./examples/server does not build"
go build -o "$work/baseline" ./bench/baseline || die "./bench/baseline does not build"

live=${SETY_BOOTSTRAP_LIVE_KEY:-sety_live_$(hex16)}
test_key=${SETY_BOOTSTRAP_TEST_KEY:-sety_test_$(hex16)}

(cd "$work" && exec env SETY_DB="${SETY_DB:-$work/sety.db}" SETY_RATE_LIMITS="${SETY_RATE_LIMITS:-false}" \
	SETY_BOOTSTRAP_LIVE_KEY="$live" SETY_BOOTSTRAP_TEST_KEY="$test_key" SETY_ADDR=127.0.0.1:0 \
	"$work/sety-server" >"$work/sety.log" 2>&1) &
sety_pid=$!
pids+=("$sety_pid")
(exec "$work/baseline" -addr 127.0.0.1:0 >"$work/baseline.log" 2>&1) &
base_pid=$!
pids+=("$base_pid")
(exec "$work/baseline" -addr 127.0.0.1:0 -db "$work/durable.db" >"$work/durable.log" 2>&1) &
durable_pid=$!
pids+=("$durable_pid")
sety_addr=$(wait_addr "sety server" "$sety_pid" "$work/sety.log")
base_addr=$(wait_addr "baseline" "$base_pid" "$work/baseline.log")
durable_addr=$(wait_addr "durable baseline" "$durable_pid" "$work/durable.log")

cat >"$work/body.json" <<'JSON'
{"category":"vehicle","severity":"high","title":"Vehicle emergency reported by rider","description":"Rider reports the driver left the agreed route and stopped in an unlit street.","subject":{"name":"Amaka Obi","phone":"+2348012345678","email":"amaka.obi@example.com","reference":"TRIP-44821","metadata":{"trip_id":"trp_9x2k4m","vehicle_plate":"LND-482-KJ"}},"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street, Victoria Island, Lagos","landmark":"Opposite the filling station"}}
JSON

# create_one ADDR LOG: creates one incident, prints its id; exits loudly, with the server's log, unless 201.
create_one() {
	local out code
	out=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $live" -H 'Content-Type: application/json' \
		--data-binary "@$work/body.json" "http://$1/v1/external/incidents")
	code=${out##*$'\n'}
	if [[ $code != 201 ]]; then
		echo "http.sh: create on $1 answered $code, not 201: ${out%$'\n'*}" >&2
		echo "its log:" >&2
		tail -n 30 "$2" >&2
		exit 1
	fi
	grep -o '"incident_id":"[^"]*"' <<<"$out" | head -1 | cut -d'"' -f4
}
sety_id=$(create_one "$sety_addr" "$work/sety.log")
base_id=$(create_one "$base_addr" "$work/baseline.log")
durable_id=$(create_one "$durable_addr" "$work/durable.log")

storage=$(grep -m1 -oE 'storage=[^ ]+|"storage":"[^"]+"' "$work/sety.log" | tr -d '"' | sed 's/storage[=:]//' || true)
echo "sety-server at $sety_addr (storage ${storage:-unknown}; pid $sety_pid), baseline at $base_addr (pid $base_pid), durable baseline at $durable_addr (pid $durable_pid)"
echo "load: $VEGETA, $workers workers, ${secs}s per round, $rounds rounds; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# attack NAME PID ADDR OP SECONDS: drives one server; prints
# "rps p50_ms p99_ms ok_pct cpu_pct" and keeps the vegeta report in $work/report.json.
attack() {
	local name=$1 pid=$2 addr=$3 op=$4 dur=$5 id t0 t1 c0 c1
	id=$sety_id
	[[ $name == baseline ]] && id=$base_id
	[[ $name == durable ]] && id=$durable_id
	{
		if [[ $op == create ]]; then
			printf 'POST http://%s/v1/external/incidents\n' "$addr"
		else
			printf 'GET http://%s/v1/external/incidents/%s\n' "$addr" "$id"
		fi
		printf 'Authorization: Bearer %s\nContent-Type: application/json\n' "$live"
		[[ $op == create ]] && printf '@%s\n' "$work/body.json"
		printf '\n'
	} >"$work/targets.txt"
	c0=$(cpu_ticks "$pid")
	t0=$(now_ns)
	"$VEGETA" attack -targets="$work/targets.txt" -rate=0 -workers="$workers" -max-workers="$workers" \
		-duration="${dur}s" >"$work/results.bin"
	t1=$(now_ns)
	c1=$(cpu_ticks "$pid")
	"$VEGETA" report -type=json <"$work/results.bin" >"$work/report.json"
	local f rps p50 p99 ok
	f=$work/report.json
	rps=$(report_field "$f" throughput)
	p50=$(report_field "$f" 50th)
	p99=$(report_field "$f" 99th)
	ok=$(report_field "$f" success)
	awk -v rps="$rps" -v p50="$p50" -v p99="$p99" -v ok="$ok" -v c="$((c1 - c0))" -v hz="$clk_tck" -v ns="$((t1 - t0))" \
		'BEGIN { printf "%.0f %.2f %.2f %.1f %.0f\n", rps, p50 / 1e6, p99 / 1e6, 100 * ok, 100 * (c / hz) / (ns / 1e9) }'
}

# show NAME LINE: one round's figures; names the status codes and first error when not all succeeded.
show() {
	read -r rps p50 p99 ok cpu <<<"$2"
	printf '  %-8s %7s req/s  p50 %7s ms  p99 %7s ms  ok %5s%%  server cpu %4s%%\n' "$1" "$rps" "$p50" "$p99" "$ok" "$cpu"
	if [[ $ok != 100.0 ]]; then
		echo "           status codes $(grep -o '"status_codes":{[^}]*}' "$work/report.json" | cut -d: -f2-)," \
			"first error: $(grep -o '"errors":\[[^]]*' "$work/report.json" | cut -c11- | cut -d, -f1)"
	fi
}

if ((warmup > 0)); then
	for op in "${oplist[@]}"; do
		attack baseline "$base_pid" "$base_addr" "$op" "$warmup" >/dev/null
		attack durable "$durable_pid" "$durable_addr" "$op" "$warmup" >/dev/null
		attack sety "$sety_pid" "$sety_addr" "$op" "$warmup" >/dev/null
	done
fi

: >"$work/all"
for op in "${oplist[@]}"; do
	for ((r = 1; r <= rounds; r++)); do
		echo "$op round $r/$rounds"
		all3=(baseline durable sety)
		order=("${all3[@]:$(((r - 1) % 3))}" "${all3[@]:0:$(((r - 1) % 3))}")
		for who in "${order[@]}"; do
			if [[ $who == sety ]]; then
				line=$(attack sety "$sety_pid" "$sety_addr" "$op" "$secs")
			else
				# sety is paused while a baseline runs: after the create
				# rounds it has background work (the queued incidents' SLA
				# breaches) that would otherwise slow the baseline's round.
				kill -STOP "$sety_pid"
				if [[ $who == baseline ]]; then
					line=$(attack baseline "$base_pid" "$base_addr" "$op" "$secs")
				else
					line=$(attack durable "$durable_pid" "$durable_addr" "$op" "$secs")
				fi
				kill -CONT "$sety_pid"
			fi
			show "$who" "$line"
			echo "$op $r $who $line" >>"$work/all"
		done
	done
done

queued=$(curl -s -H "Authorization: Bearer $live" "http://$sety_addr/v1/external/incidents?status=created,dispatching&limit=1" |
	grep -o '"total":[0-9]*' | cut -d: -f2 || true)
echo "sety now holds ${queued:-?} live incidents in created/dispatching (no responder pool: they wait in the dispatch queue;"
echo "  rounds after the create rounds ran with that queue; OPS=get alone measures get without it)"
if ((idle_check > 0)); then
	c0=$(cpu_ticks "$sety_pid")
	sleep "$idle_check"
	c1=$(cpu_ticks "$sety_pid")
	awk -v c="$((c1 - c0))" -v hz="$clk_tck" -v s="$idle_check" 'BEGIN { printf "sety cpu while idle for %d s after the rounds: %.0f%% of one core\n", s, 100 * c / hz / s }'
fi
errors=$(grep -cE 'level=ERROR|"level":"ERROR"' "$work/sety.log" || true)
warns=$(grep -cE 'level=WARN|"level":"WARN"' "$work/sety.log" || true)
echo "sety log: $errors ERROR and $warns WARN lines"
if ((errors + warns > 0)); then
	grep -m3 -E 'level=(ERROR|WARN)|"level":"(ERROR|WARN)"' "$work/sety.log" | cut -c1-300 | sed 's/^/  /'
fi

# Medians over rounds: absolute figures per server, and ratios sety/baseline
# paired by round (both servers ran in the same minute).
awk "$awk_median"'
{ key = $1 SUBSEP $2; v[$3, key, "rps"] = $4; v[$3, key, "p50"] = $5; v[$3, key, "p99"] = $6; v[$3, key, "ok"] = $7; v[$3, key, "cpu"] = $8
  if (!($1 in seen)) { seen[$1] = 1; order[++nops] = $1 } rounds[$1, $2] = 1; nr[$1] = ($2 > nr[$1] ? $2 : nr[$1]) }
END {
	print "\nmedians over rounds:"
	for (o = 1; o <= nops; o++) {
		op = order[o]
		for (w = 1; w <= 3; w++) {
			who = w == 1 ? "baseline" : w == 2 ? "durable" : "sety"
			for (f = 1; f <= 5; f++) {
				name = f == 1 ? "rps" : f == 2 ? "p50" : f == 3 ? "p99" : f == 4 ? "ok" : "cpu"
				delete a; n = 0
				for (r = 1; r <= nr[op]; r++) a[++n] = v[who, op SUBSEP r, name]
				m[who, name] = median(a, n)
			}
			printf "  %-6s %-8s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  ok %5.1f%%  server cpu %4.0f%%\n", op, who,
				m[who, "rps"], m[who, "p50"], m[who, "p99"], m[who, "ok"], m[who, "cpu"]
		}
		for (w = 1; w <= 2; w++) {
			base = w == 1 ? "baseline" : "durable"
			for (f = 1; f <= 3; f++) {
				name = f == 1 ? "rps" : f == 2 ? "p50" : "p99"
				delete a; n = 0
				for (r = 1; r <= nr[op]; r++) {
					b = v[base, op SUBSEP r, name]; s = v["sety", op SUBSEP r, name]
					if (b > 0) a[++n] = s / b
				}
				ratio[base, op, name] = n ? median(a, n) : 0
			}
			line[w] = line[w] (o > 1 ? "; " : "") sprintf("%s %.2fx throughput, p50 %.1fx, p99 %.1fx (sety ok %.0f%%)",
				op, ratio[base, op, "rps"], ratio[base, op, "p50"], ratio[base, op, "p99"], m["sety", "ok"])
		}
	}
	print "ratios (sety / baseline, median of per-round ratios): " line[1]
	print "ratios (sety / durable baseline, median of per-round ratios): " line[2]
}' "$work/all"
