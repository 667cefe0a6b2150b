# awkward.awk - seeded generator of an awkward makemap source for the interop
# tests (tests/interop/t2004-mapc-awkward.sh).  Usage: awk -v n=COUNT [-v seed=S]
# -f awkward.awk >SRC.  The source goes to stdout; the records mapc must store go
# to the file "exp" (keys folded) and "expf" (keys as written), one "key<TAB>value"
# per line in source order.  Park-Miller steps keep it the same under any awk.
function rnd(n) { seed = (seed * 16807) % 2147483647; return seed % n }
function fold(s,   i, c, p, r) {
    r = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1); p = index(UP, c)
        r = r (p ? substr(LO, p, 1) : c)
    }
    return r
}
function rep(s, n,   r) { r = ""; while (length(r) < n) r = r s; return substr(r, 1, n) }
BEGIN {
    UP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"; LO = "abcdefghijklmnopqrstuvwxyz"
    seed = seed ? seed : 20261122
    nsep = split(" |\t| \t |\t\t|   |\t \f", SEP, "|")
    for (i = 1; i <= n; i++) {
        if (i % 17 == 0) print "# comment " i " with\ttabs and UPPER case: not a record"
        if (i % 23 == 0) print ""
        t = rnd(6)
        if (t == 0)      k = "Connect:10." int(i / 256) "." (i % 256)
        else if (t == 1) k = "From:User" i "@Example" rnd(1000) ".COM"
        else if (t == 2) k = "To:Dom" i ".Example.NET"
        else if (t == 3) k = "From:Us\311R" i "@Ex\303\244mple.ORG"
        else if (t == 4) k = "Spam" i "%Host!Path#x@Y.org"
        else             k = "Long" i "." rep("AbCd", 1000 + rnd(600))
        t = rnd(10)
        if (t == 0)      v = (rnd(2) ? "OK" : "RELAY")
        else if (t == 1) v = "ERROR:5.7.1:550 Go  away,   Sender " i
        else if (t == 2) v = "REJECT\tsee\tticket " i
        else if (t == 3) v = "ERROR:550 Zugriff verweigert \374ber \346\227\245\346\234\254 " i
        else if (t == 4) v = "ERROR:550 " rep("Long value " i " ", 1100 + rnd(2000))
        else if (t == 5) v = "OK" rep(" ", 1 + rnd(3))
        else if (t == 6) v = "REJECT # not a comment " i
        else if (t == 7) v = ""
        else             v = "DISCARD"
        line = k (v == "" && rnd(2) ? "" : SEP[1 + rnd(nsep)]) v
        if (rnd(8) == 0) line = line "\r"
        print line
        print fold(k) "\t" v >"exp"
        print k "\t" v >"expf"
    }
}
