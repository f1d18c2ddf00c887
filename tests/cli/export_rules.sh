# The Prometheus recording rules shipped for fleets
# (docs/prometheus/heapswitch.rules.yml): promtool's own checks, its unit
# tests with synthetic series and exact expected values
# (tests/cli/export_rules.test.yml), and every heapswitch_* metric the
# rules read is one that `heapswitch export` writes.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"

if ! command -v promtool >/dev/null 2>&1; then
    echo "SKIP: promtool is not installed (Debian: apt-get install prometheus)"
    exit 77
fi
rules=$abs_top_srcdir/docs/prometheus/heapswitch.rules.yml

if promtool check rules "$rules" >"$work/check" 2>&1; then
    ok "promtool check rules: $(grep -o '[0-9]* rules found' "$work/check")"
else
    fail "promtool check rules: $(cat "$work/check")"
fi
# rule_files in the test file are relative to it.
if (cd "$abs_top_srcdir/tests/cli" && promtool test rules export_rules.test.yml) \
    >"$work/test" 2>&1; then
    ok "promtool test rules: every expected value"
else
    fail "promtool test rules: $(cat "$work/test")"
fi

# The renderer's output with quotes, backslashes, newlines and bytes that
# are not UTF-8 in its labels, and values of every kind.
"$abs_top_builddir/tests/unit/metrics" "$work/synthetic.prom" >/dev/null
if promtool check metrics <"$work/synthetic.prom" >"$work/lint" 2>&1; then
    ok "promtool check metrics: the renderer's awkward labels and values are clean"
else
    fail "promtool check metrics on tests/unit/metrics' page: $(cat "$work/lint")"
fi

# The metric names the rules read, each described on the exporter's page.
"$HSW" export --textfile "$work/page.prom" 2>"$work/err" ||
    fail "export --textfile: $(cat "$work/err")"
# Recorded names (level:metric:operations) taken out first.
read_names=$(grep -v '^ *#' "$rules" | sed 's/[a-z_]*:[a-z_0-9]*:[a-z_0-9]*//g' |
    grep -o 'heapswitch_[a-z_]*' | sort -u)
for name in $read_names; do
    # A histogram's series are typed under its base name.
    base=${name%_bucket}
    grep -qx "# TYPE $name [a-z]*" "$work/page.prom" ||
        grep -qx "# TYPE $base histogram" "$work/page.prom" ||
        fail "the rules read $name, which export does not write"
done
check "the rules read $(echo $read_names | wc -w) metrics, all written by export" \
    test -n "$read_names"

finish
