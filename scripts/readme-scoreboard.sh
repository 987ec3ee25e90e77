#!/usr/bin/env bash
# Measures the scoreboard and writes its table into README.md, between the
# <!-- scoreboard:begin --> and <!-- scoreboard:end --> lines: the README's
# table is what this command printed, with its command, date and machine.
# About 5 minutes on 2 idle cores; extra arguments go to simrun (-seeds 1-50).
# With -scenario NAME the table goes between <!-- scoreboard-NAME:begin -->
# and <!-- scoreboard-NAME:end --> instead (the database modes:
# scripts/readme-scoreboard.sh -scenario orders-db). With -checkers NAME
# (other than scenario), -NAME is added to the marker's name: the orders
# modes judged by the oracle alone go between <!-- scoreboard-oracle:begin -->
# and <!-- scoreboard-oracle:end -->. With -recovery continue, -continue is
# added the same way (<!-- scoreboard-continue:begin -->).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/simrun
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -tags synctests -o "$bin" ./cmd/simrun
table=$(mktemp)
# The scoreboard exits 1 when a mode is never caught: the table is still
# written, and so is the failure (the script fails after writing it).
status=0
"$bin" -scoreboard -markdown "$@" >"$table" || status=$?
marker=scoreboard
args=("$@")
for i in "${!args[@]}"; do
	if [[ ${args[$i]} == -scenario && $((i + 1)) -lt ${#args[@]} && ${args[$((i + 1))]} != orders ]]; then
		marker="scoreboard-${args[$((i + 1))]}"
	fi
done
for i in "${!args[@]}"; do
	if [[ ${args[$i]} == -checkers && $((i + 1)) -lt ${#args[@]} && ${args[$((i + 1))]} != scenario ]]; then
		marker="${marker}-${args[$((i + 1))]}"
	fi
done
for i in "${!args[@]}"; do
	if [[ ${args[$i]} == -recovery && $((i + 1)) -lt ${#args[@]} && ${args[$((i + 1))]} != restart ]]; then
		marker="${marker}-${args[$((i + 1))]}"
	fi
done
python3 - "$table" "$marker" <<'PY'
import sys
table = open(sys.argv[1]).read().rstrip("\n")
readme = open("README.md").read()
begin, end = "<!-- %s:begin -->\n" % sys.argv[2], "<!-- %s:end -->" % sys.argv[2]
i, j = readme.index(begin) + len(begin), readme.index(end)
open("README.md", "w").write(readme[:i] + table + "\n" + readme[j:])
PY
rm -f "$table"
exit "$status"
