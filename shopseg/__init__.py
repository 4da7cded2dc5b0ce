"""Command-line tools of the shopseg dbt project."""
