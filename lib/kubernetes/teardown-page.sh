# shellcheck shell=bash
# Run at destroy: the worker's test page is removed from PAGE_DIR.
: "${PAGE_DIR:?}"
rm -f "$PAGE_DIR/index.html"
