# Shared by the test scripts: "ok:" and "FAIL:" lines and a count of the
# failures; a script ends with [ "$failures" -eq 0 ].
failures=0

ok() { echo "ok: $*"; }
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
    check_label=$1
    shift
    if "$@"; then ok "$check_label"; else fail "$check_label"; fi
}
