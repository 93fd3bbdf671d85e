# poweroff, reboot and halt as shell functions that run the wrappers in
# /usr/sbin (which release /data first, -f included): busybox sh runs its own
# applets before looking at PATH, so without these a `poweroff -f` typed in, or
# ending a rescue.run script, would skip the wrapper. Sourced by /etc/profile,
# by interactive shells through $ENV, and before the session's rescue.run.
poweroff() { /usr/sbin/poweroff "$@"; }
reboot() { /usr/sbin/reboot "$@"; }
halt() { /usr/sbin/halt "$@"; }
