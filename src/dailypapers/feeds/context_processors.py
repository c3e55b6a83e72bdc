def autodiscovery(request) -> dict:
    """`feeds`: the RSS/Atom feeds that match the page, for <link rel="alternate"> in base.html."""
    return {"feeds": []}
