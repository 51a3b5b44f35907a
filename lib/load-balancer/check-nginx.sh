# shellcheck shell=bash
# keepalived's health check, run from /etc/keepalived as its unprivileged script user: passes when the
# LB port (LB_PORT) accepts a TCP connection on this host within CHECK_TIMEOUT_SECONDS, which is what
# clients need (a running nginx process that does not listen would pass a `ps` check). It never stops
# keepalived: keepalived reacts to the exit code, and the VIP comes back by itself once nginx does.
: "${LB_PORT:?}" "${CHECK_TIMEOUT_SECONDS:?}"
exec timeout "$CHECK_TIMEOUT_SECONDS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$LB_PORT" 2>/dev/null
