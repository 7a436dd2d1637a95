"""Data sources (demo generator, published download, local directory) and the original layout."""
