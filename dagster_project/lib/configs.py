"""Run configuration more than one stage reads: the upload an ingest run processes."""

import dagster as dg

from dagster_project.lib import keys


class UploadConfig(dg.Config):
    """Which upload a run processes. The upload sensors fill both fields; materializing from the
    UI or `dagster asset materialize` without config processes the ASIN's newest upload."""

    upload_key: str = ""
    etag: str = ""
    profile: str = ""


# Every op of the ingest job (ingest's two assets and QA's automatic review) takes the
# UploadConfig of the upload the run processes; an asset's op is named after its key.
UPLOAD_OPS = tuple(
    key.to_python_identifier() for key in (keys.DELIVERY, keys.ASSET_VERSION, keys.QA_REVIEW)
)
