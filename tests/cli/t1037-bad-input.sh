#!/bin/sh
# The bad-input corpus (issue 13, item 7): every file under tests/data/badinput/
# (written by gen.py there) through the tool that reads its syntax, plus
# inputs made here (directories, FIFOs, a 4 MiB line, a file over relayconv's
# 1 GiB input limit, a dangling symbolic link).  Exit status (tests/data/badinput/EXIT), stdout and stderr are
# golden; none may be 128 or more (a crash).
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/badinput"
EXIT="$DATA/EXIT"
[ -n "$UPDATE_GOLDEN" ] && : > "$T/EXIT.new"

# cmd TARGET FILE: the command for one input
cmd() {
    case $1 in
    access)    echo "mapc -t cdb -o out $2" ;;
    tcprules)  echo "mapc -s tcprules -o out $2" ;;
    tcprules6) echo "mapc -s tcprules6 -o out $2" ;;
    rcpthosts) echo "mapc -s rcpthosts -o out $2" ;;
    policy)    echo "relayconv --from policy --to sendmail $2" ;;
    sendmail)  echo "relayconv --from sendmail --to policy $2" ;;
    qmail)     echo "relayconv --from qmail --to policy $2" ;;
    exchange)  echo "relayconv --from exchange --to policy $2" ;;
    antirelay) echo "relayconv --from antirelay --to policy $2" ;;
    esac
}
crashed=
one() {     # one TARGET NAME: the input is TARGET/NAME.in under the scratch dir
    want=$(awk -v n="$1/$2" '$1 == n { print $2 }' "$EXIT")
    [ -n "$want" ] || want=none
    golden "$1/$2" "$want" sh -c "cd '$T/w' && exec $(cmd "$1" "$1/$2.in")"
    [ "$rc" -ge 128 ] && crashed="$crashed $1/$2:$rc"
    [ -n "$UPDATE_GOLDEN" ] && echo "$1/$2 $rc" >> "$T/EXIT.new"
    rm -rf "$T/w/out" "$T/w/out."* 2>/dev/null
}
mkdir -p w
n=0
for dir in "$DATA"/*/; do
    target=$(basename "$dir")
    mkdir -p "w/$target"
    for f in "$dir"*.in; do
        cp "$f" "w/$target/"
    done
    # made here: what git cannot hold, or would be large
    mkdir "w/$target/directory.in"
    mkfifo "w/$target/fifo-empty.in"
    awk 'BEGIN { s = "x"; while (length(s) < 2200000) s = s s; print "k " s }' > "w/$target/huge-line.in"
    ln -s nowhere "w/$target/dangling-link.in"
    truncate -s 1025M "w/$target/over-limit.in"     # sparse: no disk, no time
    for f in "w/$target"/*.in; do
        name=$(basename "$f" .in)
        n=$((n + 1))
        case $name in
        fifo-empty) ( exec 3>"$f"; sleep 0.2 ) & one "$target" "$name"; wait ;;
        *) one "$target" "$name" ;;
        esac
    done
done
ok_if "corpus: $n inputs (at least 150)" test "$n" -ge 150
ok_if "no crash (exit >= 128):$crashed" test -z "$crashed"
if [ -n "$UPDATE_GOLDEN" ]; then sort "$T/EXIT.new" > "$EXIT"; fi
finish
