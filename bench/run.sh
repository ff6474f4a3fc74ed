#!/usr/bin/env bash
# Benchmark: Casebook (and Hugo, where installed) on synthetic corpora.
#
#   bench/run.sh [SIZES...]          default: 1000 10000
#
# For each N: generate N cases with `examples/gen_cases.rs` into $BENCH_DIR (cached by N
# and generator version), build them with the release `casebook build` twice (cold, then
# warm page cache) without the build cache, then with it after one added case, the same
# in a fresh checkout (every content file written anew, as CI's checkout does), a new
# write-up of the newest breach (CI's usual change), one edited case (the one the added
# case was copied from), another edited case and a changed site title, and, where `hugo`
# is on PATH and N <= $HUGO_MAX, build the same corpus converted for Hugo (skeleton in
# bench/hugo/) twice the same way. Wall time, user+sys
# CPU time and peak RSS come from GNU time (`/usr/bin/time -v`). Prints a table and
# writes it to bench/RESULTS.md (or $RESULTS).
#
# Environment: CARGO_TARGET_DIR (default: ./target), BENCH_DIR (default:
# /tmp/casebook-bench), HUGO_MAX (default 20000; larger N builds Casebook only),
# NO_HUGO=1 (skip Hugo), CHECK=1 (also run `casebook check` on each corpus, timed),
# REPEAT (default 3: how many times each change to a cached build is timed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH_DIR=${BENCH_DIR:-/tmp/casebook-bench}
HUGO_MAX=${HUGO_MAX:-20000}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000 10000)

if [ ! -x /usr/bin/time ]; then
  echo "GNU time is missing: apt-get install -y time" >&2
  exit 2
fi

echo "building casebook and the generator (release) ..." >&2
(cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release --quiet --bin casebook --example gen_cases)
CASEBOOK=$TARGET/release/casebook
GEN=$TARGET/release/examples/gen_cases
GEN_VERSION=$("$GEN" --version)

HUGO=""
if [ -z "${NO_HUGO:-}" ] && command -v hugo >/dev/null 2>&1; then
  HUGO=$(command -v hugo)
fi

# measure LABEL OUTFILE CMD... : runs CMD under GNU time; appends "wall cpu rss_mb" to OUTFILE.
measure() {
  local out=$1; shift
  local tv
  tv=$(mktemp)
  # Flush the previous run's output to disk first, so its writeback is not billed here.
  sync
  sleep 1
  echo "$(cut -d' ' -f1 /proc/loadavg)" >>"$out.load"
  if ! /usr/bin/time -v -o "$tv" "$@" >"$tv.stdout" 2>"$tv.stderr"; then
    echo "FAILED: $*" >&2
    tail -n 30 "$tv.stderr" >&2
    rm -f "$tv" "$tv.stdout" "$tv.stderr"
    exit 1
  fi
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /User time/ { u = $2 } /System time/ { s = $2 }
    /Maximum resident set size/ { m = $2 }
    END { printf "%.2f %.2f %.0f\n", w, u + s, m / 1024 }' "$tv" >>"$out"
  cp "$tv.stderr" "$out.stderr"
  rm -f "$tv" "$tv.stdout" "$tv.stderr"
}

# "    load: 12 ms (80 MB resident after, 9 MB of it mapped files)" lines from --timings,
# as "load: 12 ms (80 MB, 9 MB mapped)".
stages() {
  awk '/^ *[a-z]+: [0-9]+ ms/ { sub(/^ +/, ""); sub(/ resident after/, ""); sub(/ of it mapped files/, " mapped"); printf "%s%s", sep, $0; sep = ", " }' "$1"
}

ROWS=$(mktemp)
STAGES=$(mktemp)
RATIOS=$(mktemp)
GENS=$(mktemp)
WARM=$(mktemp)
EDITSTAGES=$(mktemp)
trap 'rm -f "$ROWS" "$STAGES" "$RATIOS" "$GENS" "$WARM" "$EDITSTAGES"' EXIT

for N in "${SIZES[@]}"; do
  CORPUS=$BENCH_DIR/v$GEN_VERSION-$N
  SITE=$CORPUS/site
  HSITE=$CORPUS/hugo
  if [ ! -f "$CORPUS/.done" ]; then
    rm -rf "$CORPUS"
    mkdir -p "$CORPUS"
    echo "generating $N cases into $CORPUS ..." >&2
    t0=$(date +%s.%N)
    "$GEN" "$N" "$SITE" --hugo "$HSITE"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$CORPUS/gen-seconds"
    touch "$CORPUS/.done"
  fi
  echo "| $N | $(cat "$CORPUS/gen-seconds") | $(du -sm "$SITE/content" | cut -f1) |" >>"$GENS"

  if [ -n "${CHECK:-}" ]; then
    echo "casebook check, $N cases ..." >&2
    "$CASEBOOK" check --root "$SITE" >"$CORPUS/check.txt" 2>&1 || { cat "$CORPUS/check.txt" | tail -n 40 >&2; echo "check failed for N=$N" >&2; exit 1; }
  fi

  # Every run writes into a folder of its own, and earlier outputs are removed here, once,
  # then left to settle: on this machine's ext4 (no journal) every new file probes the
  # inode table for inodes freed in the last 60 seconds (360 while their block is dirty),
  # so a build right after deleting a big tree pays for the deletion (seen here: up to 3x
  # the system time at 10,000 cases, 40 % of all samples at 100,000, for either tool).
  rm -rf "$CORPUS"/out-casebook* "$CORPUS"/out-hugo* "$HSITE/resources"
  sync
  sleep "${SETTLE:-65}"

  # Casebook: full build into a fresh folder, twice.
  M=$(mktemp)
  for run in 1 2; do
    OUT=$CORPUS/out-casebook-$run
    echo "casebook build, $N cases, run $run ..." >&2
    measure "$M" "$CASEBOOK" build --no-cache --root "$SITE" --output "$OUT" --timings
    if [ $run -eq 2 ]; then
      echo "| $N | $(stages "$M.stderr") |" >>"$STAGES"
    fi
  done
  pages=$(find "$OUT" -name '*.html' | wc -l)
  files=$(find "$OUT" -type f | wc -l)
  mb=$(du -sm "$OUT" | cut -f1)
  read -r cw1 cc1 cm1 < <(sed -n 1p "$M")
  read -r cw2 cc2 cm2 < <(sed -n 2p "$M")
  load=$(paste -sd/ "$M.load")
  echo "| $N | Casebook | $cw1 | $cw2 | $cc2 | $cm1 | $cm2 | $pages | $files | $mb | $load |" >>"$ROWS"
  rm -f "$M" "$M.stderr" "$M.load"

  # The build cache, as CI uses it: one build fills it, then one change and a build,
  # undone by another build. Each change is made and undone $REPEAT times (default 3);
  # the median of its timed builds is printed (this machine's speed wanders by a quarter
  # from one minute to the next). Warm figures sit beside run 2's cold one (no cache).
  WF=$(mktemp)
  WOUT=$CORPUS/out-casebook-cached
  CACHE_DIR=$SITE/.casebook-cache
  rm -rf "$CACHE_DIR" "$WOUT"
  echo "casebook build with the cache, $N cases: filling it ..." >&2
  measure "$WF" "$CASEBOOK" build --root "$SITE" --output "$WOUT"
  cases=("$SITE"/content/cases/*.md)
  first=$(basename "${cases[0]}")
  # Another case than the first: CI's next write-up is rarely the last one's.
  other=$(basename "${cases[$(( ${#cases[@]} / 2 ))]}")
  # A new write-up of a breach as recent as the newest on the site: the site lists it
  # first. A copy of the newest case (its slug sorts before the generator's).
  newest=$(grep -o '"attack_layer":"cases/[^/]*/' "$WOUT/api/cases.json" | awk -F/ 'NR == 1 { print $2 }')
  cp "$SITE/content/cases/$first" "$CORPUS/edited.orig"
  cp "$SITE/content/cases/$other" "$CORPUS/other.orig"
  cp "$SITE/site.toml" "$CORPUS/site.toml.orig"
  change() {
    case $1 in
      add) sed 's/^title = .*/title = "A case added for the benchmark"/' "$CORPUS/edited.orig" >"$SITE/content/cases/zz-added.md" ;;
      # CI's checkout writes every file anew: none is known by its stamp, each is read
      # again (its parse is still the cache's, by the text's fingerprint).
      checkout)
        find "$SITE/content" -type f -exec touch {} +
        sed 's/^title = .*/title = "A case added for the benchmark"/' "$CORPUS/edited.orig" >"$SITE/content/cases/zz-added.md"
        ;;
      new) sed 's/^title = .*/title = "A new write-up for the benchmark"/' "$SITE/content/cases/$newest.md" >"$SITE/content/cases/a-new-write-up.md" ;;
      edit) sed 's/^title = .*/title = "A title edited for the benchmark"/' "$CORPUS/edited.orig" >"$SITE/content/cases/$first" ;;
      other) sed 's/^title = .*/title = "Another title edited for the benchmark"/' "$CORPUS/other.orig" >"$SITE/content/cases/$other" ;;
      title) sed 's/^title = .*/title = "Renamed for the benchmark"/' "$CORPUS/site.toml.orig" >"$SITE/site.toml" ;;
    esac
  }
  undo() {
    case $1 in
      add | checkout) rm "$SITE/content/cases/zz-added.md" ;;
      new) rm "$SITE/content/cases/a-new-write-up.md" ;;
      edit) cp "$CORPUS/edited.orig" "$SITE/content/cases/$first" ;;
      other) cp "$CORPUS/other.orig" "$SITE/content/cases/$other" ;;
      title) cp "$CORPUS/site.toml.orig" "$SITE/site.toml" ;;
    esac
  }
  # median FILE: the line of FILE with the median wall time.
  median() { sort -n "$1" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }
  row="| $N | $cw2 s, $cm2 MB | $(awk '{ print $1 " s, " $3 " MB" }' "$WF")"
  for kind in add checkout new edit other title; do
    W=$(mktemp)
    U=$(mktemp)
    for rep in $(seq 1 "${REPEAT:-3}"); do
      echo "casebook build with the cache, $N cases: $kind, $rep of ${REPEAT:-3} ..." >&2
      change $kind
      measure "$W" "$CASEBOOK" build --root "$SITE" --output "$WOUT" --timings
      case $kind in
        new) grep -q '"attack_layer":"cases/a-new-write-up/' "$WOUT/api/cases.json" || { echo "the new write-up is not in the site" >&2; exit 1; } ;;
        title) grep -q "Renamed for the benchmark" "$WOUT/index.html" || { echo "the title change did not reach the home page" >&2; exit 1; } ;;
      esac
      if [ $kind = edit ] && [ "$rep" = 1 ]; then
        echo "| $N | $(stages "$W.stderr") |" >>"$EDITSTAGES"
      fi
      undo $kind
      measure "$U" "$CASEBOOK" build --root "$SITE" --output "$WOUT" # undone, untimed below
    done
    if [ $kind = checkout ]; then
      # Settled again, and known by their stamps to the next build, as before the checkout.
      sleep 2.1
      measure "$U" "$CASEBOOK" build --root "$SITE" --output "$WOUT"
    fi
    read -r ww _ wm < <(median "$W")
    row="$row | $ww s ($(awk -v a="$ww" -v b="$cw2" 'BEGIN { printf "%.2f", a / b }') of cold), $wm MB"
    rm -f "$W" "$W.stderr" "$W.load" "$U" "$U.stderr" "$U.load"
  done
  echo "$row |" >>"$WARM"
  rm -rf "$CACHE_DIR" "$WOUT"
  rm -f "$WF" "$WF.stderr" "$WF.load"

  if [ -n "$HUGO" ] && [ "$N" -le "$HUGO_MAX" ]; then
    rm -rf "$HSITE/layouts"
    cp -r "$ROOT/bench/hugo/config.toml" "$ROOT/bench/hugo/layouts" "$HSITE/"
    M=$(mktemp)
    for run in 1 2; do
      HOUT=$CORPUS/out-hugo-$run
      rm -rf "$HSITE/resources"
      echo "hugo, $N cases, run $run ..." >&2
      measure "$M" "$HUGO" --quiet --source "$HSITE" --destination "$HOUT" --cacheDir "$CORPUS/hugo-cache"
    done
    hpages=$(find "$HOUT" -name '*.html' | wc -l)
    hfiles=$(find "$HOUT" -type f | wc -l)
    hmb=$(du -sm "$HOUT" | cut -f1)
    read -r hw1 hc1 hm1 < <(sed -n 1p "$M")
    read -r hw2 hc2 hm2 < <(sed -n 2p "$M")
    echo "| $N | Hugo $("$HUGO" version | sed -E 's/^hugo v([0-9.]+).*/\1/') | $hw1 | $hw2 | $hc2 | $hm1 | $hm2 | $hpages | $hfiles | $hmb | $(paste -sd/ "$M.load") |" >>"$ROWS"
    rm -f "$M" "$M.stderr" "$M.load"
    awk -v n="$N" -v cw="$cw2" -v hw="$hw2" -v cc="$cc2" -v hc="$hc2" -v cm="$cm2" -v hm="$hm2" 'BEGIN {
      printf "| %s | %.3f (%.1fx faster) | %.3f | %.3f (%.1fx less) |\n", n, cw / hw, hw / cw, cc / hc, cm / hm, hm / cm }' >>"$RATIOS"
  fi
done

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# Benchmark results"
  echo
  echo "Produced by \`bench/run.sh ${SIZES[*]}\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) CPUs ($CPU), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM, $(uname -sr)."
  echo "Casebook: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (release build); generator v$GEN_VERSION."
  [ -n "$HUGO" ] && echo "Hugo: $("$HUGO" version | cut -d' ' -f1-2)."
  echo
  echo "Full builds into a new folder, each after \`sync\` (old outputs removed once per size,"
  echo "then ${SETTLE:-65} s of rest, see the script). Run 1 first, run 2 right after"
  echo "(warm page cache). Wall and CPU (user+sys) seconds and peak RSS from GNU time; the"
  echo "1-minute load average before each run shows whether the machine was otherwise busy."
  echo
  echo "| cases | tool | wall s, run 1 | wall s, run 2 | CPU s, run 2 | peak MB, run 1 | peak MB, run 2 | HTML pages | files | output MB | load avg before runs |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  cat "$ROWS"
  if [ -s "$RATIOS" ]; then
    echo
    echo "Casebook / Hugo, run 2 (targets at 10,000 cases: wall <= 0.1, peak memory <= 0.25):"
    echo
    echo "| cases | wall | CPU | peak memory |"
    echo "| ---: | ---: | ---: | ---: |"
    cat "$RATIOS"
  fi
  echo
  echo "The build cache (\`[build] cache\`): a build after one change, with the cache a build"
  echo "of the unchanged site filled, beside run 2 above (\`--no-cache\`) and the build that"
  echo "filled the cache (a site's first CI run). Each change is made and undone ${REPEAT:-3}"
  echo "times; the median of its builds, wall seconds (and the fraction of the cold build"
  echo "without the cache), and its peak RSS:"
  echo
  echo "| cases | cold, no cache | cold, filling the cache | one case added | one case added, fresh checkout (CI) | a new write-up (the newest case) | one case edited | another case edited | site.toml title changed |"
  echo "| ---: | --- | --- | --- | --- | --- | --- | --- | --- |"
  cat "$WARM"
  echo
  echo "Casebook stages, run 2 (\`casebook build --timings\`):"
  echo
  echo "| cases | stages |"
  echo "| ---: | --- |"
  cat "$STAGES"
  echo
  echo "The one-case edit with the cache, by stage (\`save\` runs beside \`write\`). Much of its"
  echo "resident memory is the cache's piece file, mapped: page cache the kernel can drop,"
  echo "not memory the build allocated:"
  echo
  echo "| cases | stages |"
  echo "| ---: | --- |"
  cat "$EDITSTAGES"
  echo
  echo "Corpus generation (\`gen_cases\`, cached between runs):"
  echo
  echo "| cases | seconds | content MB |"
  echo "| ---: | ---: | ---: |"
  cat "$GENS"
} | tee "$RESULTS"
