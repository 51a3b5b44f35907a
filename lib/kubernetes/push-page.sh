# shellcheck shell=bash
# Installs index.html, beside the script, into PAGE_DIR: the hostPath directory the worker's Pod serves.
: "${PAGE_DIR:?}"
install -d -m 0755 "$PAGE_DIR"
install -m 0644 index.html "$PAGE_DIR/index.html"
