"""Where the pipeline metrics are pushed: a Prometheus Pushgateway, when one is configured."""

import os

import dagster as dg


class PushgatewayResource(dg.ConfigurableResource):
    """Where to push the metrics (`host:port` or URL of a Prometheus Pushgateway). Empty: the
    `SHAZAM_PUSHGATEWAY_URL` variable when the run starts, and no push when that is unset too."""

    url: str = ""

    def target(self) -> str:
        return (self.url or os.environ.get("SHAZAM_PUSHGATEWAY_URL", "")).strip()
