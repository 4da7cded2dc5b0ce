{{ config(severity=var('drift_severity'), store_failures=true, tags=['drift']) }}
{#-
    The centroids this build assigned with still fit the data (issue 22): one row per axis of the
    latest build in segment_drift that drifted past the thresholds (vars drift_max_mean_shift,
    drift_max_spread_shift, drift_max_share_psi) while the build kept the drifted version. Warns by
    default; `--vars '{drift_severity: error}'` fails the build instead. The message names the
    axis, what moved and the command that rediscovers. A build that rediscovered (data identity
    changed, var rediscover_on_drift, monthly job) returns no row: its version is fitted on the data.
-#}
with drift as (
    select * from {{ ref('segment_drift') }}
),

latest_build as (
    select build_id from drift
    order by built_at desc, build_id desc
    limit 1
)

select
    drift.axis,
    drift.compared_version as centroid_version,
    drift.mean_shift,
    drift.spread_shift,
    drift.segment_share_psi,
    'axis ' || drift.axis || ' drifted from centroid version ' || drift.compared_version || ' ('
    || drift.drift_summary || '): rediscover with {{ shopseg_rediscover_command() | replace("'", "''") }}' as message
from drift
inner join latest_build on drift.build_id = latest_build.build_id
where drift.drifted and not drift.rediscovered
