# Seeded generator of tcp.smtp rule files that both tcprules and mapc accept
# (every address kind, ranges with clamping, every value delimiter), and of
# questions IP,HOST,INFO for tcprulescheck.  Used by t3100 and t3110.
#   awk -v seed=N -v n=RULES -v v6=0|1 -v mode=rules|questions -f tcprules-gen.awk
function pick(s,   a, k) { k = split(s, a, " "); return a[int(rand() * k) + 1] }
function oct() { return pick("1 2 3 10 127 192 168 0 255") }
function v6addr() { return pick("::1 fe80::1 fe80::2 2001:db8::1 2001:db8:1::5 2001:db8:ffff::abcd ::2 fe80::1:2") }
function v6pref() { return pick("fe80: fe80:: 2001: 2001:db8: 2001:db8:1: 2001:db8::") }
function host() { return pick("a.example.org b.c.example.org mail.example.com x.org example.org mx-1.example.net") }
function info() { return pick("joe bob root") }
function addr(   r, lo, hi) {
    r = rand()
    if (r < 0.20) return oct() "." oct() "." oct() "." oct()
    if (r < 0.30) return oct() "."
    if (r < 0.38) return oct() "." oct() "."
    if (r < 0.46) return oct() "." oct() "." oct() "."
    if (r < 0.56) { lo = int(rand() * 256); hi = lo + int(rand() * 40) - 5; if (hi < lo) hi = lo
                    return oct() "." oct() "." oct() "." lo "-" hi }
    if (r < 0.60) { lo = int(rand() * 10); return oct() "." lo "-" (lo + int(rand() * 3)) "." }
    if (r < 0.68) return "=" host()
    if (r < 0.74) return "=." pick("example.org c.example.org org example.com net")
    if (r < 0.76) return "="
    if (r < 0.78) return ""
    if (r < 0.84) return info() "@" oct() "." oct() "." oct() "." oct()
    if (r < 0.88) return info() "@=" host()
    if (v6 && r < 0.94) return v6addr()
    if (v6) return (rand() < 0.5 ? v6pref() : info() "@" v6addr())
    return oct() "." oct() "." oct() "." oct()
}
function value(   s, i, k) {
    s = ""; k = int(rand() * 6)
    for (i = 0; i < k; i++) s = s pick("a b : , = / - x y \047 .")
    return s
}
function rule(   s, i, k, d, v) {
    s = addr() ":" (rand() < 0.3 ? "deny" : "allow")
    k = int(rand() * 4)
    for (i = 0; i < k; i++) {
        v = value()
        do d = pick("\" \047 / | % # ! ~ , = :"); while (index(v, d) > 0)
        s = s "," pick("RELAYCLIENT RBLSMTPD QMAILQUEUE SMTPGREETING X Y") "=" d v d
    }
    if (rand() < 0.05) s = s pick("  \t \t ")
    return s
}
BEGIN {
    srand(seed)
    if (mode == "questions") {
        for (i = 0; i < n; i++) {
            ip = rand() < 0.7 || !v6 ? oct() "." oct() "." oct() "." oct() : v6addr()
            h = rand() < 0.5 ? host() : ""
            f = rand() < 0.3 ? info() : ""
            print ip "," h "," f
        }
        exit
    }
    for (i = 0; i < n; i++) {
        r = rand()
        if (r < 0.03) print "# comment " i
        else if (r < 0.05) print ""
        else print rule()
    }
}
