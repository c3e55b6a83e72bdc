"""The top layer's commands: `ingest` and `demo` compose papers (the upsert) with search (bringing the
indexes current), so they live above both; papers never imports search."""
