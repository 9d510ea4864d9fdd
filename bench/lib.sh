# Shared by the benchmark scripts (bench/http.sh, bench/limits.sh): source it
# after setting $script, the name errors are reported under; start_work then
# makes the temporary directory $work.

vegeta_version=v12.13.0

die() { echo "$script: $*" >&2; exit 1; }
isint() { [[ $1 =~ ^[0-9]+$ ]]; }
posint() { [[ $1 =~ ^[0-9]+$ && $1 -gt 0 ]]; }
hex16() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
now_ns() { date +%s%N; }
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# cpu_ticks PID: user+system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# start_work NAME: makes $work, a temporary directory that is removed at
# exit, after every process in $pids is stopped (and resumed first, should
# it be paused).
start_work() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/sety-$1.XXXXXX")
	pids=()
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}
cleanup() {
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}

# find_vegeta sets VEGETA: as given, else the one on PATH, else one installed
# (go install) into ${XDG_CACHE_HOME:-~/.cache}/sety-bench/, once.
find_vegeta() {
	if [[ -z ${VEGETA:-} ]]; then
		if command -v vegeta >/dev/null; then
			VEGETA=$(command -v vegeta)
		else
			local bin=${XDG_CACHE_HOME:-$HOME/.cache}/sety-bench/vegeta-$vegeta_version
			VEGETA=$bin/vegeta
			if [[ ! -x $VEGETA ]]; then
				echo "installing vegeta $vegeta_version into $bin" >&2
				mkdir -p "$bin"
				(cd "$work" && GOBIN=$bin GOFLAGS='' go install "github.com/tsenart/vegeta/v12@$vegeta_version") ||
					die "could not install vegeta; install it yourself and set VEGETA=/path/to/vegeta"
			fi
		fi
	fi
	[[ -x $VEGETA ]] || die "VEGETA=$VEGETA is not an executable"
}

# wait_addr NAME PID LOG: waits up to 60 s for the server to print its
# loopback address and answer /health; prints the address. On failure it
# prints the server's output and exits.
wait_addr() {
	local name=$1 pid=$2 log=$3 addr=
	for _ in $(seq 600); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$script: $name exited before serving; its output:" >&2
			cat "$log" >&2
			exit 1
		fi
		# The first loopback address, not that of the pprof listener (SETY_PPROF_ADDR).
		addr=${addr:-$(grep -v pprof "$log" | grep -m1 -oE '127\.0\.0\.1:[0-9]+' || true)}
		if [[ -n $addr ]] && curl -sf "http://$addr/health" >/dev/null; then
			echo "$addr"
			return
		fi
		sleep 0.1
	done
	echo "$script: $name did not answer /health within 60 s; its output:" >&2
	cat "$log" >&2
	exit 1
}

# report_field FILE NAME: a number from a vegeta JSON report ("throughput", "50th", ...).
report_field() { grep -o "\"$2\":[^,}]*" "$1" | head -1 | cut -d: -f2; }

# awk_median is an awk function: median(a, n) of a[1..n] (sorts a).
awk_median='
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}'
