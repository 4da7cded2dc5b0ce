"""Benchmark (docs/spec.md §9; docs/benchmarks.md): full and incremental `dbt build` against a
client-side Python pipeline, in one run, at one or more data scales.

    make bench                                   # seed scale (120,979 customers)
    python -m shopseg.bench --scales seed
    python -m shopseg.bench --scales 10000,100000,1000000 --skip-incremental
    python -m shopseg.bench --scales seed --skip-client --out bench/results

Per scale, in the dedicated database --database (dropped and re-created, plpython3u):
  1. generate the data (python -m shopseg.generate, COPY into schema raw);
  2. full build: `dbt build --full-refresh` (own --target-path); per-node times from
     run_results.json grouped into phases (features, discovery, assignment, tests, other);
  3. incremental scenario (unless --skip-incremental): 1% of customers get one new order (a
     copy of their latest order and its lines, dated the pinned reference date + 1 day),
     `dbt build --vars '{reference_date: <pinned>, test_scope: rewritten}'` (the daily job,
     scripts/daily.sh; its target path primed by an untimed `dbt parse` with the same vars, the
     partial-parse state a scheduled daily run finds from the day before, since its vars only
     change with a monthly rediscovery: the cold parse is reported too), then a full rebuild with the
     same pinned date (`--full-refresh`; segment_centroids keeps its versions), and the
     incremental and full results compared row by row (customer_profiles without segmented_at;
     int_customer_features);
  4. assignment alone: `dbt run --full-refresh --select int_segment_centroids_current+` (the
     assignment phase's models, nothing else competing for the cores), same pinned date;
  5. client pipeline (unless --skip-client): first `dbt run --full-refresh` (every model: features,
     discovery, assignment; no tests; same pinned date), the like-for-like dbt side; then
     shopseg/bench/client_pipeline.py in a subprocess, compared with dbt's customer_profiles.
The markdown starts with the issue-19 targets table (full build, dbt run vs client, daily vs full,
1 M customers when that scale ran, the last `make test` of this checkout) as ratios.
Memory: server = PostgreSQL backends of the benchmark database (and their parallel workers),
sampled every 0.2 s from /proc: max VmHWM of any backend (peak RSS, shared buffers it touched
included), max private memory (RssAnon) of any backend, and max sum of RssAnon over backends.
Client = peak RSS (ru_maxrss) of each subprocess (dbt, generator, client pipeline) from
wait4()'s rusage, i.e. RUSAGE_CHILDREN scoped to that child; the client pipeline also reports
its own RUSAGE_SELF.

dbt runs on a copy of the dbt project taken at the start (target/bench/<run>/project), so edits
in the working tree during a run cannot mix two versions of the models (--no-freeze: run in place).
Tuning: --sweep name=value,... (repeatable, --sweep-repeat N rounds) adds full rebuilds under
setting variants (PostgreSQL settings via PGOPTIONS, threads=N for dbt); --pg-setting applies a
setting to every dbt run; --reuse-data keeps the database's data; --timeout-min stops a dbt run
and reports the nodes finished so far (from dbt's log).

Results: one JSON file per run in --out (git-ignored), Markdown tables on stdout.
"""
