"""Every product is one partition: the ASIN. Partitions are added by the upload sensors."""

import dagster as dg

asin_partitions = dg.DynamicPartitionsDefinition(name="asin")
