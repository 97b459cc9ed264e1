#!/usr/bin/env bash
# make demo: the relay end to end on a namespace topology. Not built yet.
echo "make demo: not yet — xturnd (issue: the AF_XDP appliance) is still to come."
echo "Today: 'make check' builds the wire layer and runs its tests."
