#!/usr/bin/env python3
"""gen_policy.py SEED NRULES - a seeded random relay policy in the neutral
policy file format (relaymap-formats(5)), for the end-to-end tests on real
servers.

The client networks that matter lie in 127.0.0.0/24, where the tests can
bind source addresses to play clients, nested and overlapping so that the
most-specific-first order of the model must become the server's own order.
Other networks, host names, senders and recipients fill the policy to size.
Only what every server format here can enforce is generated: no sender that
grants relaying, no ident, no server-address or authenticated rules.  The
same seed always gives the same policy.  Also writes, with --probes DIR, the
clients, senders and recipients worth probing (one per line, "<>" for the
null sender): a seeded sample of the edges of the rules.
"""
import ipaddress
import random
import sys


def main():
    seed, n = int(sys.argv[1]), int(sys.argv[2])
    probes = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--probes" else None
    # --plain: no client host names and no reply texts, for servers whose
    # lists hold neither (Exim's host lists match names only after DNS)
    plain = "--plain" in sys.argv[3:]
    rnd = random.Random(seed)
    out = ["# relaymap policy", "# generated: gen_policy.py %d %d" % (seed, n)]
    clients, senders, rcpts = set(), {"<>", "someone@outside-%d.test" % seed}, set()
    rcpts.update(["x@outside-%d.test" % seed, "local"])
    ndom = max(2, n // 40)
    for i in range(ndom):
        kind = rnd.choice(["domain", "name", "subdomains"])
        out.append("accept %s ours%d.test" % (kind, i))
        rcpts.update(["u@ours%d.test" % i, "u@sub.ours%d.test" % i])
    acts = ["relay"] * 8 + ["reject"] * 4 + ["ok"] * 2 + \
        (["reject"] if plain else ['error 550 5.7.1 "not you"']) * 2 + ["skip"]
    nnet = n // 2
    for i in range(nnet):
        if i % 3 == 0:
            # elsewhere: bulk only
            net = ipaddress.ip_network("10.%d.%d.0/%d" % (rnd.randrange(256), rnd.randrange(256),
                                                          rnd.choice([16, 20, 24])), strict=False)
        else:
            plen = rnd.choice([24, 25, 26, 27, 28, 29, 30, 31])
            host = rnd.randrange(2, 255)
            net = ipaddress.ip_network("127.0.0.%d/%d" % (host, plen), strict=False)
            for a in (net.network_address, net.broadcast_address):
                if 1 < int(a) & 255 < 255:
                    clients.add(str(a))
        out.append("connect net %s %s" % (net, rnd.choice(acts)))
    if rnd.randrange(2):
        out.append("default %s" % rnd.choice(["reject", "ok"]))
    # Host names: only whole names, and no single-address networks above,
    # so that servers that look names up first decide like the model; the
    # tests cannot give a client a name anyway (no DNS).
    nhost = 0 if plain else n // 10
    for i in range(nhost):
        out.append("connect name host%d.clients-%d.test %s" % (i, seed, rnd.choice(acts)))
    sacts = ["reject"] * 4 + ["ok"] * 2 + \
        (["reject"] if plain else ['error 553 5.7.1 "bad sender"']) + ["skip"]
    nsend = n // 6
    for i in range(nsend):
        dom = "snd%d.test" % rnd.randrange(max(1, nsend // 2))
        # no "user@" rules: servers disagree on whether they come before
        # the domain (relayconv refuses such a conversion, with the reason)
        k = rnd.choice(["address", "domain", "name", "subdomains"])
        if k == "address":
            subj = "s%d@%s" % (i, dom)
            senders.add(subj)
        elif k == "user":
            subj = "s%d" % i
            senders.add("%s@%s" % (subj, dom))
        else:
            subj = dom
            senders.update(["a@" + dom, "a@sub." + dom])
        out.append("from %s %s %s" % (k, subj, rnd.choice(sacts)))
    racts = ["relay"] * 3 + ["reject"] * 3 + ["ok"] + \
        (["reject"] if plain else ['error 550 5.1.1 "no such user"'])
    nrcpt = n - nnet - n // 10 - nsend
    for i in range(max(1, nrcpt)):
        dom = "rcp%d.test" % rnd.randrange(max(1, nrcpt // 2))
        k = rnd.choice(["address", "domain", "name", "subdomains"])
        if k == "address":
            subj = "r%d@%s" % (i, dom)
            rcpts.add(subj)
        elif k == "user":
            subj = "r%d" % i
            rcpts.add("%s@%s" % (subj, dom))
        else:
            subj = dom
            rcpts.update(["b@" + dom, "b@sub." + dom])
        out.append("to %s %s %s" % (k, subj, rnd.choice(racts)))
    while len(clients) < 24:
        clients.add("127.0.0.%d" % rnd.randrange(2, 255))
    sys.stdout.write("\n".join(out) + "\n")
    if probes:
        # A sample, so that every sender meets every recipient from every
        # client in a few thousand RCPT commands; the null sender, an outside
        # sender and recipient, and a domain of ours are always in it.
        must = {"clients": [], "senders": ["<>", "someone@outside-%d.test" % seed],
                "rcpts": ["x@outside-%d.test" % seed, "u@ours0.test", "local"]}
        size = {"clients": 40, "senders": 8, "rcpts": 14}
        for name, vals in (("clients", clients), ("senders", senders), ("rcpts", rcpts)):
            rest = sorted(set(vals) - set(must[name]))
            pick = must[name] + rnd.sample(rest, min(len(rest), size[name] - len(must[name])))
            with open("%s/%s" % (probes, name), "w") as f:
                f.write("\n".join(pick) + "\n")


if __name__ == "__main__":
    main()
