"""What the Dagster stages share: partitions, resources, retries, tags, intervals and the Kubernetes executor."""
