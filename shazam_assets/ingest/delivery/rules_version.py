"""The version of the validation rules, recorded in every verdict (`rules_version`).

Bump it whenever a rule changes what it accepts or reports: `shazam backfill --stage validate`
re-judges the published ASINs judged by older rules, and it is the `delivery` asset's
`code_version`. A leaf module, so the code location reads it without importing the validator.
"""

RULES_VERSION = "rules-1"
