-- Parse a question with the vocabulary of the seeds. Never raises for a bad question: the
-- result says ok = false and why (only a broken vocabulary, a deployment fault, raises).
-- The question is only ever a parameter, never SQL text.
select {{ function('segment_query_parse').include(database=false) }}(question, {{ function('segment_query_vocabulary').include(database=false) }}())
