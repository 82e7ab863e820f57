"""Field pages, one module per area: lists and turfs (`lists`), scripts and codes
(`scripts`), the canvass and phone pages (`canvass`), vendor result uploads
(`uploads`). Views parse input, call one selector or service, and render."""
