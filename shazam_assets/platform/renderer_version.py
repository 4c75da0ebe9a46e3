"""The version of the studio renderer's output, recorded in every turntable manifest.

Bump it whenever output pixels change: `shazam backfill --stage render` re-renders older
turntables, and it is the `turntable_360` asset's `code_version`. A leaf module beside
`platform/renderer/`, so the code location reads it without importing open3d.
"""

RENDERER_VERSION = "studio-2"
