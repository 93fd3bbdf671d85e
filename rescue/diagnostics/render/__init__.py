"""Reports made readable: an HTML page per report, and the terminal view of `rescue report`.

``fields`` reads an untrusted JSON document field by field, ``model`` turns a
report into views (the only place that reads the JSON), ``svg`` draws the scan
chart, ``html`` and ``terminal`` lay the same views out for a browser and for a
console.
"""
