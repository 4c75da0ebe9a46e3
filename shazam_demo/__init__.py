"""The demo: procedural products and the end-to-end run. Production code never imports it."""
