# The stick's data partition at /data, left clean on every way out (sourced by
# the shutdown action, the poweroff/reboot/halt wrappers and the power button).
#
# Why: FAT marks itself dirty while mounted read-write (byte 65 of a FAT32 boot
# sector) and clears the mark only when it is unmounted or remounted read-only;
# a power-off without either leaves "Volume was not properly unmounted" on
# every computer that later reads the reports. `flush` (sysinit) writes data
# early, but only the unmount clears the mark.

# data_users: the PIDs whose working folder or an open file is on /data
# (busybox here has no fuser). Never this shell itself.
data_users() {
    for proc in /proc/[0-9]*; do
        pid=${proc#/proc/}
        [ "$pid" = "$$" ] && continue
        for link in "$proc/cwd" "$proc"/fd/*; do
            case $(readlink "$link" 2>/dev/null) in
                /data | /data/*) echo "$pid"; break ;;
            esac
        done
    done
}

# release_data [kill]: sync and unmount /data; with `kill`, end the programs
# that keep it busy first (the shutdown path: init is about to end them
# anyway). Falls back to a read-only remount, which clears the dirty mark as
# well. Status 1 when /data is still mounted read-write.
release_data() {
    cd / || return 1
    grep -q ' /data ' /proc/mounts || return 0
    sync
    umount /data 2>/dev/null && { data_note "data partition unmounted"; return 0; }
    if [ "$1" = kill ]; then
        for signal in TERM KILL; do
            pids=$(data_users)
            [ -n "$pids" ] || break
            data_note "ending what still uses /data ($signal): $(echo $pids)"
            kill -"$signal" $pids 2>/dev/null
            tries=20
            while [ -n "$(data_users)" ] && [ "$tries" -gt 0 ]; do
                usleep 100000
                tries=$((tries - 1))
            done
        done
        sync
        umount /data 2>/dev/null && { data_note "data partition unmounted"; return 0; }
    fi
    mount -o remount,ro /data 2>/dev/null && { data_note "data partition made read-only"; return 0; }
    data_note "could not unmount /data: remove the stick only after the power is off"
    return 1
}

data_note() {
    echo "rescue: $*" > /dev/console 2>/dev/null
}
