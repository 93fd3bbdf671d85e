# Reading the rescue.* options from the kernel command line (sourced by /init;
# the unit tests run it under a plain POSIX sh).
#
# Options:
#   rescue.run="CMD"   the shell command the session console runs (default: rescue menu, the guided mode)
#   rescue.tty=TTY     the console that runs it (default: tty1); ttyS0 for serial-only use
#   rescue.data=LABEL  wait for the FAT partition LABEL and mount it at /data (USB image)
#
# isolinux passes an option as written (rescue.run="a b"), while GRUB quotes the
# whole word instead ("rescue.run=a b"); both forms are accepted.

# bootopt CMDLINE NAME: print NAME's value; status 1 when the option is absent.
bootopt() {
    line=$(printf ' %s' "$1" | sed 's/ "\(rescue\.[a-z][a-z]*=\)/ \1"/g')
    case $line in
        *" $2="*) ;;
        *) return 1 ;;
    esac
    value=${line##*" $2="}
    case $value in
        \"*) value=${value#\"}; value=${value%%\"*} ;;
        *) value=${value%% *} ;;
    esac
    printf '%s\n' "$value"
}

# shell_quote WORD: WORD quoted for a POSIX shell, as one single-quoted string.
shell_quote() {
    printf "'%s'\n" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# bootopts_env CMDLINE: the options as shell assignments, defaults filled in.
bootopts_env() {
    echo "RESCUE_RUN=$(shell_quote "$(bootopt "$1" rescue.run || echo 'rescue menu')")"
    echo "RESCUE_TTY=$(shell_quote "$(bootopt "$1" rescue.tty || echo tty1)")"
    echo "RESCUE_DATA=$(shell_quote "$(bootopt "$1" rescue.data || true)")"
}
