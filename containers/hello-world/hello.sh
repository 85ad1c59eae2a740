#!/bin/sh
# The classic: print the greeting the task was started with.
set -eu
echo "${HELLO_WORLD:-Hello, world!}"
