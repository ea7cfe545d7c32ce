"""The pages people work in: server-rendered HTML on the query service, behind the same gate."""
