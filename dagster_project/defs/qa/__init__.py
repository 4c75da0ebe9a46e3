"""QA: automatic checks on each stored version, and the reviewer's decision as `qa_approved`."""
