"""Reports made readable: an HTML page per report, and the terminal view of `rescue report`.

``model`` checks a report document and turns it into views (the only place
that reads the JSON), ``svg`` draws the scan chart, ``html`` and ``terminal``
lay the same views out for a browser and for a console.
"""
