"""The review page: a small local web app where QA reviewers approve or reject versions.

`create_app(store, sla=...)` builds the ASGI app; `serve(store)` runs it with uvicorn. The 3D
viewer (Google's <model-viewer>) is served from `static/node_modules`, installed with
`npm ci --prefix shazam_assets/qa/review/static`.
"""

from shazam_assets.qa.review.app import create_app, serve

__all__ = ["create_app", "serve"]
