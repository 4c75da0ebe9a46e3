"""The review page: a small local web app where QA reviewers approve or reject versions.

`create_app(store, sla=...)` builds the ASGI app; `serve(store)` runs it with uvicorn. The 3D
viewer (Google's <model-viewer>) is served from `shazam_assets.platform.viewer`, which the
product pages share.
"""

from shazam_assets.qa.review.app import create_app, serve

__all__ = ["create_app", "serve"]
