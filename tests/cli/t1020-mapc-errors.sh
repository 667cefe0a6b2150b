#!/bin/sh
# mapc: every input error names file:line and the text; all bad lines are
# reported; nothing is written and the old map stays.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
cp "$TOP/examples/access" access
mapc -t hash access
cp access.db access.db.orig
{ cat access; printf '  indented.example OK\nnovalue\n\tTAB OK\nSpam@Hacker.com DISCARD\n'; } > access.new
mv access.new access
golden "bad-lines" 65 mapc -t hash access
same_file "old map byte-identical after bad input" access.db.orig access.db
ok_if "no temporaries left" sh -c '[ -z "$(ls -A | grep "^\.")" ]'

printf 'a 1\r\nb 2\r\n' > crlf
golden "crlf" 0 sh -c 'mapc -t cdb crlf && cdb -d crlf.cdb | od -c'
printf '\357\273\277a 1\nb 2\n' > bom
golden "bom" 0 sh -c 'mapc -t cdb bom && cdb -d bom.cdb'
awk 'BEGIN { s = ""; for (i = 0; i < 5000; i++) s = s "x"; print "long " s }' > long
golden "long-line" 0 sh -c 'mapc -t hash long && mapc -t hash -q long long | wc -c'
: > empty
golden "empty-file" 0 mapc -t cdb empty
awk 'BEGIN { for (i = 0; i < 120; i++) print " bad" i }' > many
golden "error-limit" 65 mapc -t cdb many
printf 'a 1\n' > lnk
ln -s /etc/passwd lnk.cdb
golden "symlink-refused" 73 mapc -t cdb lnk
ok_if "symlink target untouched" test -L lnk.cdb
golden "symlink-unsafe" 0 mapc -t cdb --unsafe lnk
ok_if "--unsafe replaced the link, not its target" sh -c 'test -f lnk.cdb && ! test -L lnk.cdb && grep -q root /etc/passwd'
golden "no-directory" 73 mapc -t cdb -o /nonexistent/dir/x lnk
finish
