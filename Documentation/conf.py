# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration for shpt's documentation ("make htmldocs").

project = 'shpt'
copyright = 'shpt developers'
author = 'shpt developers'

extensions = []
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
html_static_path = []
# Man page for the command-line tool: "sphinx-build -b man".
man_pages = [('shptctl', 'shptctl', 'control and inspect the shpt module',
              [author], 8)]
