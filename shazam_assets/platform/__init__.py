"""The ground layer: object store, store layout, settings, errors, notify and the safe-input helpers every stage shares. It never imports a stage."""
