"""Field program: lists, scripts and codes, turfs, walk and call sheets, canvassing, contact results."""
