"""The product catalogue: words about an ASIN that the 3D delivery does not carry.

A CSV or Parquet file with the columns `asin, title, brand, category` (only `asin` is
required; other columns are ignored). Its words join the ASIN's text in the search index, so
a shopper finds a mug by its brand or its category even though the artist never typed them.
The store may hold one at `search/catalogue.parquet` or `search/catalogue.csv`.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from shazam_assets.platform import layout
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.search.errors import SearchError

CATALOGUE_COLUMNS = ("title", "brand", "category")
CATALOGUE_KEYS = layout.search_catalogue_keys()

Catalogue = dict[str, dict[str, str]]  # asin -> {"title": …, "brand": …, "category": …}


def catalogue_from_frame(frame: pd.DataFrame) -> Catalogue:
    """Rows of a catalogue table keyed by ASIN; blank cells are left out, later rows win."""
    columns = {str(c).strip().lower(): c for c in frame.columns}
    if "asin" not in columns:
        raise SearchError(
            "SEARCH_CATALOGUE_COLUMNS",
            f"a catalogue needs an 'asin' column; it has {list(columns)}",
        )
    wanted = [name for name in CATALOGUE_COLUMNS if name in columns]
    table = frame[[columns["asin"], *(columns[n] for n in wanted)]].astype("string").fillna("")
    table.columns = ["asin", *wanted]
    out: Catalogue = {}
    for row in table.itertuples(index=False):
        asin = str(row.asin).strip()
        if asin:
            out[asin] = {
                n: str(getattr(row, n)).strip() for n in wanted if str(getattr(row, n)).strip()
            }
    return out


def read_catalogue(source: Path | bytes, *, name: str = "") -> Catalogue:
    """Read a catalogue from a local file or from bytes (`name` tells the format then):
    `.parquet` as Parquet (needs pyarrow), anything else as CSV."""
    label = str(source) if isinstance(source, Path) else name or "catalogue"
    parquet = (
        source.suffix if isinstance(source, Path) else Path(name).suffix
    ).lower() == ".parquet"
    data = source if isinstance(source, Path) else io.BytesIO(source)
    try:
        frame = (
            pd.read_parquet(data)
            if parquet
            else pd.read_csv(data, dtype=str, keep_default_na=False)
        )
    except ImportError as exc:
        raise SearchError(
            "SEARCH_CATALOGUE_UNREADABLE", f"{label}: Parquet needs pyarrow ({exc})"
        ) from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise SearchError("SEARCH_CATALOGUE_UNREADABLE", f"{label}: {exc}") from None
    return catalogue_from_frame(frame)


def store_catalogue(store: ObjectStore) -> Catalogue | None:
    """The catalogue kept in the store (Parquet first), or None when there is none."""
    for key in CATALOGUE_KEYS:
        if store.exists(key):
            return read_catalogue(store.get_bytes(key), name=key)
    return None
