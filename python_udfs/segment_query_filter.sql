{#- python_udfs/ is also the function-paths of the fixture project tests/fixtures/pymodels, which
    has no customer_profiles model and no seeds: this SQL UDF exists in the shopseg project only. -#}
{{ config(enabled=(project_name == 'shopseg')) }}
-- Parse a question with the vocabulary of the seeds. Never raises for a bad question: the
-- result says ok = false and why (only a broken vocabulary, a deployment fault, raises).
-- The question is only ever a parameter, never SQL text.
select {{ function('segment_query_parse').include(database=false) }}(question, {{ function('segment_query_vocabulary').include(database=false) }}())
