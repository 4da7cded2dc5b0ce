-- The lint's axis catalog (scripts/test.sh runs this on the lint database, a copy of the test build;
-- docs/decisions.md "Issue 19: line features beside `int_orders_enriched`; the lint renders a
-- covering set of axes; a parallel membership test").
--
-- Four models unroll their SQL over every axis of the catalog seeds (int_customer_assignments_wide
-- alone compiles to 175 KB) and were 70% of sqlfluff's CPU in `make test`. The per-axis block is
-- the same template for every axis; what varies is the axis' properties. So the lint database
-- keeps only a set of axes that covers every property some axis has (greedy set cover): kind,
-- ranking direction, each feature transform, label count, having signals or not, the most
-- features and the longest name (line length). Every template line still renders, with every
-- variant the catalog has; `make lint` lints the full catalog against the demo database.
set search_path = :"catalog_schema";

do $lint_catalog$
declare
    chosen text[] := '{}';
    best text;
begin
    create temp table axis_traits on commit drop as
    with axes as (
        select
            axis,
            axis_order,
            axis_kind,
            ranking_direction,
            (select count(*) from segment_axis_labels as l where l.axis = a.axis) as labels,
            (select count(*) from segment_axis_features as f where f.axis = a.axis) as features,
            exists (select from segment_axis_signals as s where s.axis = a.axis) as has_signals
        from segment_axes as a
    )

    select axis, axis_order, 'kind ' || axis_kind as trait from axes
    union all
    select axis, axis_order, 'direction ' || coalesce(ranking_direction, '-') from axes
    union all
    select axis, axis_order, 'labels ' || labels from axes
    union all
    select axis, axis_order, 'signals ' || has_signals from axes
    union all
    select axis, axis_order, 'most features' from axes where features = (select max(features) from axes)
    union all
    select axis, axis_order, 'longest name' from axes where length(axis) = (select max(length(axis)) from axes)
    union all
    select a.axis, a.axis_order, 'transform ' || f.transform
    from axes as a
    inner join segment_axis_features as f on a.axis = f.axis;

    loop
        select t.axis into best
        from axis_traits as t
        where t.trait not in (select c.trait from axis_traits as c where c.axis = any(chosen))
        group by t.axis, t.axis_order
        order by count(distinct t.trait) desc, t.axis_order
        limit 1;
        exit when best is null;
        chosen := chosen || best;
    end loop;

    delete from segment_axes where axis <> all(chosen);
    delete from segment_axis_features where axis <> all(chosen);
    delete from segment_axis_labels where axis <> all(chosen);
    delete from segment_axis_signals where axis <> all(chosen);
    raise notice 'lint catalog: % of the axes (%)',
        cardinality(chosen), array_to_string(chosen, ', ');
end
$lint_catalog$;
