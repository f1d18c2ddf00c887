#!/bin/sh
# The part of unavailable.sh that needs real root: a /dev/shm the user
# cannot write to, as another user. Its own test, so that a machine
# without root reports it as skipped rather than passed.
. "$(dirname "$0")/unavailable.sh"
