"""Every product is one partition: the ASIN. Partitions are added by the upload sensors."""

import dagster as dg

ASIN_PARTITIONS = "asin"  # the partitions definition's name, as the instance stores it
asin_partitions = dg.DynamicPartitionsDefinition(name=ASIN_PARTITIONS)
