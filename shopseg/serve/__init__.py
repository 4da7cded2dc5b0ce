"""Read-only serving of the segments: an HTTP API (`api`) and an MCP server (`mcp_server`).

Both connect as a login role that is a member of the BI role and switch to it (`SET ROLE`), so
they can do exactly what BI may do: read the marts and call the segment_query_* functions
(docs/serving.md, docs/access.md). `queries` holds every SQL statement they run.
"""
