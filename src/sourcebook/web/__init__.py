"""The web app: start, watch and audit runs in a browser (``sourcebook web``)."""
