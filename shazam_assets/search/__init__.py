"""Search over published 3D assets: by ASIN, by words, or by a photo of the product.

`embed` turns pictures into vectors, `index` keeps the vectors (hnswlib) and the words (BM25)
and persists them beside the assets, `build` reads what is published into an index, and `api`
serves it over HTTP. Nothing here imports Dagster.
"""
