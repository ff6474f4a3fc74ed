#!/usr/bin/env bash
# Two casebook binaries side by side on the same changes to a cached build.
#
#   bench/side-by-side.sh BIN_A BIN_B [PAIRS] [CHANGE]
#
# CHANGE: title (the same case's title, again and again; default), spread (a title,
# each time another case's), add (a copy of the first case added, one more each time),
# new (a copy of the newest case added: a new write-up of a recent breach).
# Copies $CORPUS (default: the 10,000-case site bench/run.sh generates) twice into
# $WORK (default /tmp/casebook-sbs), fills each copy's cache with its binary, then makes
# each change to both copies and builds them in turn, A then B, PAIRS times (default 7).
# Prints the medians of wall, user+sys CPU and peak RSS (GNU time) and of the paired
# differences of wall and of CPU. The second build of a pair can gain from the first
# one's warm caches: run it again with A and B swapped before trusting a small difference.
set -euo pipefail
A=$1
B=$2
PAIRS=${3:-7}
CHANGE=${4:-title}
CORPUS=${CORPUS:-${BENCH_DIR:-/tmp/casebook-bench}/v2-10000/site}
WORK=${WORK:-/tmp/casebook-sbs}
[ -d "$CORPUS/content/cases" ] || { echo "no site at $CORPUS: run bench/run.sh 10000 first, or set CORPUS" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install -y time" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK"
for x in a b; do
  cp -r "$CORPUS" "$WORK/site-$x"
  rm -rf "$WORK/site-$x/.casebook-cache"
done
"$A" build --root "$WORK/site-a" --output "$WORK/out-a" >/dev/null 2>&1
"$B" build --root "$WORK/site-b" --output "$WORK/out-b" >/dev/null 2>&1
# Once more, two seconds later: a file changed less than two seconds before a build read it is
# read again by the next one (see load::Known), as it would be after a copy or checkout.
sleep 2.1
"$A" build --root "$WORK/site-a" --output "$WORK/out-a" >/dev/null 2>&1
"$B" build --root "$WORK/site-b" --output "$WORK/out-b" >/dev/null 2>&1
cases=("$WORK"/site-a/content/cases/*.md)
first=$(basename "${cases[0]}")
cp "$WORK/site-a/content/cases/$first" "$WORK/first.orig"
for i in $(seq 1 "$PAIRS"); do
  for x in a b; do
    s=$WORK/site-$x/content/cases
    case $CHANGE in
      title) sed "s/^title = .*/title = \"Edited title $i\"/" "$WORK/first.orig" >"$s/$first" ;;
      spread) f=$(basename "${cases[$(( (i * 997) % ${#cases[@]} ))]}"); sed -i "s/^title = .*/title = \"Spread edit $i\"/" "$s/$f" ;;
      add) sed "s/^title = .*/title = \"Added $i\"/" "$WORK/first.orig" >"$s/zz-added-$i.md" ;;
      new)
        n=$(grep -o '"attack_layer":"cases/[^/]*/' "$WORK/out-a/api/cases.json" | awk -F/ 'NR == 1 { print $2 }')
        sed "s/^title = .*/title = \"New write-up $i\"/" "$s/$n.md" >"$s/a-new-$i.md" ;;
      *) echo "unknown change $CHANGE" >&2; exit 2 ;;
    esac
  done
  for x in a b; do
    bin=$A
    [ $x = b ] && bin=$B
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/t-$x.$i" "$bin" build --root "$WORK/site-$x" --output "$WORK/out-$x" >/dev/null 2>"$WORK/err-$x"
  done
done
python3 - "$WORK" "$PAIRS" <<'PY'
import sys, statistics as s
work, n = sys.argv[1], int(sys.argv[2])
r = {x: [list(map(float, open(f"{work}/t-{x}.{i}").read().split())) for i in range(1, n + 1)] for x in "ab"}
for x in "ab":
    print(x, "wall %.3f s, cpu %.3f s, rss %d MB" % (s.median(v[0] for v in r[x]), s.median(v[1] + v[2] for v in r[x]), s.median(v[3] for v in r[x]) / 1024))
d = [r["b"][i][0] - r["a"][i][0] for i in range(n)]
print("b - a, wall: median %.3f s; each pair: %s" % (s.median(d), " ".join("%.2f" % x for x in d)))
# CPU (user+sys) moves less than wall when the machine slows down: a second opinion.
c = [r["b"][i][1] + r["b"][i][2] - r["a"][i][1] - r["a"][i][2] for i in range(n)]
print("b - a, CPU: median %.3f s; each pair: %s" % (s.median(c), " ".join("%.2f" % x for x in c)))
PY
