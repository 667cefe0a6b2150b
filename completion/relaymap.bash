# bash completion for relaymap: mapc, relayconv and relaytest.
# Installed as completions/mapc with relayconv and relaytest linked to it.
# Map types, source syntaxes and policy formats are asked from the tool
# being completed (mapc -l, relayconv --list), so they follow its build;
# the option lists are kept equal to the tools' option tables by
# tests/cli/t0003-bash-completion.sh.

# The first column of a listing, "mapc -l" (types, then after "syntaxes:"
# the syntaxes) or "relayconv --list" (formats).
_relaymap_types()    { "$1" -l 2>/dev/null | awk '/^syntaxes:/ { exit } { print $1 }'; }
_relaymap_syntaxes() { "$1" -l 2>/dev/null | awk 'f { print $1 } /^syntaxes:/ { f = 1 }'; }
_relaymap_formats()  { "$1" --list 2>/dev/null | awk '{ print $1 }'; }

_relaymap_options()
{
    COMPREPLY=($(compgen -W "$1" -- "$cur"))
    [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
}

_mapc()
{
    local cur prev words cword split
    _init_completion -s || return

    case $prev in
        -t | --type)
            COMPREPLY=($(compgen -W "$(_relaymap_types "$1")" -- "$cur")); return ;;
        -s | --syntax)
            COMPREPLY=($(compgen -W "$(_relaymap_syntaxes "$1")" -- "$cur")); return ;;
        -o | --output | --migrate)
            _filedir; return ;;
        -D | --comment | -T | --delimiter | -c | --cache-size | --max-line | -q | --query)
            return ;;
    esac
    $split && return
    # mapc --migrate [TYPE:]MAP NEWTYPE
    if ((cword >= 3)) && [[ ${words[cword-2]} == --migrate ]]; then
        COMPREPLY=($(compgen -W "$(_relaymap_types "$1")" -- "$cur")); return
    fi
    if [[ $cur == -* ]]; then
        _relaymap_options '-t --type= -s --syntax= -o --output= -N --nul -f --keep-case
            -r --replace -d --duplicates -e --empty -D --comment= -T --delimiter=
            --max-line= -c --cache-size= -a --append -n --nowait --unsafe -q --query=
            -u --dump --expand --check --migrate= --if-changed --quiet --json -v --verbose -l --list
            --help --version'
        return
    fi
    _filedir
}

_relayconv()
{
    local cur prev words cword split
    _init_completion -s || return

    case $prev in
        -f | --from | -t | --to | -F | --format)
            COMPREPLY=($(compgen -W "$(_relaymap_formats "$1")" -- "$cur")); return ;;
        --table-type)
            COMPREPLY=($(compgen -W "lmdb cdb hash" -- "$cur")); return ;;
        --reg-version)
            COMPREPLY=($(compgen -W "4 5" -- "$cur")); return ;;
        -o | --output)
            _filedir; return ;;
        --server-dir | --postfix-dir)
            _filedir -d; return ;;
        --client | --host | --ident | --server)
            return ;;
    esac
    $split && return
    if [[ $cur == -* ]]; then
        _relaymap_options '-f --from= -t --to= -F --format= -o --output= -n --nowait
            -q --quiet --lossy --allow-widening --strict-loopback --if-changed --json --verify --decide --lint
            --list --client= --host= --ident= --server= --authenticated --server-dir=
            --postfix-dir= --table-type= --reg-version= --help --version'
        return
    fi
    _filedir
}

_relaytest()
{
    local cur prev words cword split
    _init_completion -s || return

    case $prev in
        --unix)
            _filedir; return ;;
        --pipe)
            compopt -o filenames
            COMPREPLY=($(compgen -c -- "$cur")); return ;;
        -s | --source | --server-name | --server-ip | --local-user | --outside-domain | \
        --outside-user | --helo | --only | -t | --timeout)
            return ;;
    esac
    $split && return
    if [[ $cur == -* ]]; then
        _relaymap_options '-s --source= --pipe= --unix= --server-name= --server-ip=
            --local-user= --outside-domain= --outside-user= --helo= --only= -t --timeout=
            -j --json -l --list -h --help --version'
        return
    fi
    _known_hosts_real -- "$cur"
}

complete -F _mapc mapc
complete -F _relayconv relayconv
complete -F _relaytest relaytest
