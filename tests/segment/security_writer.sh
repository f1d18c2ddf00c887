#!/bin/sh
# The part of security.sh that needs a pid namespace: a writer whose name
# was planted before it started. Its own test, so that a machine without
# namespaces reports it as skipped rather than passed.
. "$(dirname "$0")/security.sh"
