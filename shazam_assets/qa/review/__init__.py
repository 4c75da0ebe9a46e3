"""The review pages' parts: which stored object a URL means (`resolve`), what each page shows
(`views`), what the pages answer (`handlers`), the form protections (`guard`), and their
templates and static files. The studio (`shazam_assets.studio.review`) serves them to signed-in
reviewers; the 3D viewer (Google's <model-viewer>) is served from
`shazam_assets.platform.viewer`, which the product pages share.
"""
