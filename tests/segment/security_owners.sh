#!/bin/sh
# The part of security.sh that needs real root: segments and planted files
# of another owner, and what another user sees. Its own test, so that a
# machine without root reports it as skipped rather than passed.
. "$(dirname "$0")/security.sh"
