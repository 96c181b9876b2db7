#!/usr/bin/env bash
# make bench: bench_gallery with OpenMP threads that sleep while waiting
# (as the facenet command runs): FAISS's OpenMP workers and OpenBLAS's own
# threads otherwise spin against each other on a 2-core machine, and the
# ANN path measured 40 ms a query where it takes 1-2.
dir=${1:-build/opt}
shift || true
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} exec "$dir/bench/bench_gallery" "$@"
