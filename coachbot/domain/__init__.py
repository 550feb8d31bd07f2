"""The pure core: rules with no I/O. Dates and facts come in as arguments, decisions go out."""
