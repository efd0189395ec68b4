"""``encoder shell-hook bash|zsh|fish``: the snippet that reports each command to ``encoder record``.

Add to the shell's rc file, last (after anything that sets ``PROMPT_COMMAND`` or a DEBUG trap):

    eval "$(encoder shell-hook bash)"        # ~/.bashrc
    eval "$(encoder shell-hook zsh)"         # ~/.zshrc
    encoder shell-hook fish | source         # ~/.config/fish/config.fish

Each command's text, working directory, start and end (``$EPOCHREALTIME``; fish: its duration),
exit status, the shell's pid, its terminal (tty) and ``$WINDOWID`` are written as one record to
the FIFO ``encoder record`` listens on (:mod:`encoder.capture.sources.shell`), and only when that
FIFO exists, belongs to the user and (fish) a live recorder holds it: with no recorder running
a command costs a file test, and the shell prints nothing. The hooks start no process per command.
"""
from __future__ import annotations

import sys

from ..capture.sources.shell import FIFO_NAME, TAG

_DIR = 'if [[ -n ${XDG_RUNTIME_DIR-} ]]; then __encoder_dir=$XDG_RUNTIME_DIR/encoder; ' \
       'else __encoder_dir=/tmp/encoder-$UID; fi'

BASH = r"""# encoder shell hook (bash 4.4+; times need bash 5): reports each command to `encoder record`
if [[ $- == *i* && -z ${__encoder_hook-} ]]; then
__encoder_hook=1
@DIR@
__encoder_fifo=$__encoder_dir/@FIFO@
__encoder_tty=$(tty 2>/dev/null) || __encoder_tty=
__encoder_armed= __encoder_ran= __encoder_start= __encoder_cwd= __encoder_text= __encoder_histn=
# DEBUG trap: runs before every simple command; armed only between the end of PROMPT_COMMAND and
# the first command of the next line, so pipelines, functions and PROMPT_COMMAND's own commands
# are not reported (the manner of bash-preexec).
__encoder_preexec() {
    __encoder_armed=
    [[ -p $__encoder_fifo && -O $__encoder_fifo ]] || return 0
    [[ $BASH_COMMAND == __encoder_precmd || -n ${COMP_LINE-} ]] && return 0
    __encoder_ran=1 __encoder_start=${EPOCHREALTIME-} __encoder_cwd=$PWD __encoder_text=
    local line
    line=$(HISTTIMEFORMAT= builtin history 1)
    if [[ $line =~ ^\ *([0-9]+)\*?\ \ (.*)$ ]]; then
        # a line bash did not add to its history (ignorespace, HISTIGNORE) is reported without
        # its text; an ignored duplicate is the entry itself
        if [[ ${BASH_REMATCH[1]} != "$__encoder_histn" || ${BASH_REMATCH[2]} == "$BASH_COMMAND"* ]]; then
            __encoder_text=${BASH_REMATCH[2]}
        fi
        __encoder_histn=${BASH_REMATCH[1]}
    fi
    return 0
}
__encoder_precmd() {
    local s=$? e=${EPOCHREALTIME-}
    if [[ -n $__encoder_ran ]]; then
        __encoder_ran=
        # 1<> opens the FIFO read-write: never blocks, even if no recorder reads it any more
        [[ -p $__encoder_fifo && -O $__encoder_fifo ]] && printf '@TAG@\0bash\0%s\0%s\0%s\0%s\0%s\0\0%s\0%s\0%s\0' \
            "$$" "$__encoder_tty" "${WINDOWID-}" "$__encoder_start" "$e" "$s" "$__encoder_cwd" \
            "$__encoder_text" 1<>"$__encoder_fifo" 2>/dev/null
    fi
    return $s
}
__encoder_arm() { local s=$?; __encoder_armed=1; return $s; }
__encoder_install() {
    local prev
    prev=$(trap -p DEBUG)
    prev=${prev#"trap -- '"}; prev=${prev%"' DEBUG"}; prev=${prev//"'\\''"/"'"}
    trap "[[ -z \$__encoder_armed ]] || __encoder_preexec${prev:+; $prev}" DEBUG
    if [[ ${PROMPT_COMMAND@a} == *a* ]]; then      # bash 5.1+ array: each element runs
        PROMPT_COMMAND=(__encoder_precmd "${PROMPT_COMMAND[@]}" __encoder_arm)
    else
        PROMPT_COMMAND=__encoder_precmd${PROMPT_COMMAND:+$'\n'$PROMPT_COMMAND}$'\n'__encoder_arm
    fi
}
__encoder_install
unset -f __encoder_install
fi
"""

ZSH = r"""# encoder shell hook (zsh): reports each command to `encoder record`
if [[ -o interactive && -z ${__encoder_hook-} ]]; then
typeset -g __encoder_hook=1 __encoder_dir
@DIR@
typeset -g __encoder_fifo=$__encoder_dir/@FIFO@ __encoder_tty=${TTY-}
typeset -g __encoder_ran= __encoder_start= __encoder_cwd= __encoder_text=
zmodload zsh/datetime 2>/dev/null
__encoder_preexec() {
    [[ -p $__encoder_fifo && -O $__encoder_fifo ]] || return 0
    __encoder_ran=1 __encoder_start=${EPOCHREALTIME-} __encoder_cwd=$PWD __encoder_text=$1
}
__encoder_precmd() {
    local s=$? e=${EPOCHREALTIME-}
    if [[ -n $__encoder_ran ]]; then
        __encoder_ran=
        # 1<> opens the FIFO read-write: never blocks, even if no recorder reads it any more
        [[ -p $__encoder_fifo && -O $__encoder_fifo ]] && print -rN -- @TAG@ zsh $$ "$__encoder_tty" \
            "${WINDOWID-}" "$__encoder_start" "$e" "" $s "$__encoder_cwd" "$__encoder_text" \
            1<>$__encoder_fifo 2>/dev/null
    fi
    return $s
}
autoload -Uz add-zsh-hook
add-zsh-hook preexec __encoder_preexec
precmd_functions=(__encoder_precmd ${precmd_functions:#__encoder_precmd})   # first: it reads $?
fi
"""

FISH = r"""# encoder shell hook (fish 3.5+): reports each command to `encoder record`
if status is-interactive; and not set -q __encoder_hook
    set -g __encoder_hook 1
    if test -n "$XDG_RUNTIME_DIR"
        set -g __encoder_dir $XDG_RUNTIME_DIR/encoder
    else
        set -g __encoder_dir /tmp/encoder-(id -u)
    end
    set -g __encoder_fifo $__encoder_dir/@FIFO@
    set -g __encoder_tty (tty 2>/dev/null)
    function __encoder_preexec --on-event fish_preexec
        set -g __encoder_ran 1
        set -g __encoder_cwd $PWD
        set -g __encoder_text $argv[1]
    end
    function __encoder_postexec --on-event fish_postexec
        set -l s $status
        set -q __encoder_ran; or return
        set -e __encoder_ran
        test -p $__encoder_fifo -a -O $__encoder_fifo; or return
        # fish cannot open a FIFO read-write: write only while a live recorder holds it open
        # (its pid and descriptor are in shell.pid), so that the write cannot block
        test -r $__encoder_dir/shell.pid; or return
        read -l pid fd < $__encoder_dir/shell.pid; or return
        set -l held (path resolve /proc/$pid/fd/$fd 2>/dev/null)
        test "$held" = (path resolve $__encoder_fifo); or return
        printf '%s\0' @TAG@ fish $fish_pid "$__encoder_tty" "$WINDOWID" "" "" "$CMD_DURATION" $s \
            "$__encoder_cwd" "$__encoder_text" > $__encoder_fifo 2>/dev/null
    end
end
"""

SNIPPETS = {name: text.replace("@DIR@", _DIR).replace("@FIFO@", FIFO_NAME).replace("@TAG@", TAG.decode())
            for name, text in (("bash", BASH), ("zsh", ZSH), ("fish", FISH))}


def register(sub, common) -> None:
    p = sub.add_parser("shell-hook", parents=[common],
                       help="print the shell snippet that reports commands to `encoder record`",
                       description="Print the snippet that reports every command (text, cwd, exit status, "
                                   "start, end, pid, terminal) to a running `encoder record`. Add it last "
                                   "to the rc file: eval \"$(encoder shell-hook bash)\" (~/.bashrc), the same "
                                   "with zsh (~/.zshrc), or `encoder shell-hook fish | source` "
                                   "(config.fish). Without a recorder it costs a file test per command.")
    p.add_argument("shell", choices=sorted(SNIPPETS), help="the shell to hook")
    p.set_defaults(run=run)


def run(args) -> int:
    sys.stdout.write(SNIPPETS[args.shell])
    return 0
