# shellcheck shell=bash
# install_if_changed SRC DEST MODE: copies SRC to DEST when they differ; returns 0 if it copied.
install_if_changed() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then
    return 1
  fi
  install -D -m "$3" "$1" "$2"
}
