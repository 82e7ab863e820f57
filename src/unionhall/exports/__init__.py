"""Exports and list security (DESIGN.md capability 6): output requests approved by
someone else, run as jobs; formula-safe CSV/XLSX, fixed-width and VAN-style files;
per-export seed records and watermark, and `unionhall trace` to name the export a
leaked file came from."""
