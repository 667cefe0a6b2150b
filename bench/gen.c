/*
 * gen.c - seeded generator of benchmark inputs for bench/run.sh.
 *
 *   gen access N SEED         N lines of a Sendmail access map on stdout
 *   gen keys N M SEED         M query keys for that map: 9 in 10 present, in
 *                             random order, the rest absent
 *   gen tcprules N SEED       N tcp.smtp rules (about 2.1 records per rule)
 *   gen policy N SEED         N neutral policy lines: client networks and the
 *                             domains accepted for delivery
 *
 * Every line is a pure function of (SEED, line number), so the key list can
 * name records without reading the map, and the same arguments give the same
 * bytes on any machine.  Keys are unique and already lower case, so every
 * tool's output holds the same records and the bench can compare them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t gen_seed;

/* splitmix64: a good 64-bit mix of (seed, i, stream). */
static uint64_t
gen_hash(uint64_t i, uint64_t stream)
{
    uint64_t z = gen_seed + 0x9e3779b97f4a7c15ULL * (i + 1) + 0xbf58476d1ce4e5b9ULL * stream;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A bijection on 32-bit values: distinct line numbers give distinct values. */
static uint32_t
gen_perm(uint32_t x)
{
    x ^= (uint32_t)gen_seed;
    x *= 0x9e3779b1u;
    x ^= x >> 15;
    x *= 0x85ebca77u;
    x ^= x >> 13;
    return x;
}

/* The same on 24-bit values: a distinct /24 network for each of 16M lines. */
static uint32_t
gen_perm24(uint32_t x)
{
    const uint32_t m = 0xffffffu;

    x = (x ^ (uint32_t)gen_seed) & m;
    x = (x * 0x9e3779u + 1) & m;        /* odd multiplier: invertible mod 2^24 */
    x ^= x >> 11;
    x = (x * 0x85ebcbu) & m;
    x ^= x >> 13;
    return x;
}

static const char *const gen_words[] = {
    "mail", "smtp", "mx", "relay", "gw", "post", "news", "shop", "bulk", "promo",
    "info", "deals", "office", "corp", "net", "web", "cloud", "host", "data", "link",
    "star", "blue", "green", "alpha", "delta", "omega", "nova", "terra", "astro", "metro",
};
#define GEN_NWORDS (sizeof gen_words / sizeof gen_words[0])

static const char *const gen_tlds[] = {
    "com", "net", "org", "co.kr", "ac.kr", "de", "jp", "info", "biz", "example",
};
#define GEN_NTLDS (sizeof gen_tlds / sizeof gen_tlds[0])

static const char *const gen_users[] = {
    "admin", "info", "sales", "news", "john", "kim", "lee", "park", "spam", "noreply",
};
#define GEN_NUSERS (sizeof gen_users / sizeof gen_users[0])

/* A unique-looking label made from v in base 36. */
static void
gen_b36(char *out, uint32_t v)
{
    char tmp[8];
    int n = 0;

    do {
        tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v);
    while (n)
        *out++ = tmp[--n];
    *out = '\0';
}

/* Is access line i a comment or blank line (about 1 in 100)? */
static int
gen_is_comment(uint64_t i)
{
    return gen_hash(i, 1) % 100 == 0;
}

/* The key of access line i (not a comment), into k. */
static void
gen_access_key(char *k, size_t ksz, uint64_t i)
{
    uint64_t h = gen_hash(i, 2);
    uint32_t p = gen_perm((uint32_t)i);
    const char *w = gen_words[(h >> 8) % GEN_NWORDS];
    const char *t = gen_tlds[(h >> 16) % GEN_NTLDS];
    const char *u = gen_users[(h >> 24) % GEN_NUSERS];
    char id[8];

    gen_b36(id, p);
    switch (h % 20) {
    case 0: case 1: case 2: case 3:         /* a client address */
        snprintf(k, ksz, "connect:%u.%u.%u.%u", p >> 24, (p >> 16) & 255,
                 (p >> 8) & 255, p & 255);
        break;
    case 4: case 5: {                       /* a network as an octet prefix */
        uint32_t q = gen_perm24((uint32_t)i);
        snprintf(k, ksz, "%u.%u.%u", q >> 16, (q >> 8) & 255, q & 255);
        break;
    }
    case 6: case 7: case 8: case 9:         /* a domain */
        snprintf(k, ksz, "%s-%s.%s", w, id, t);
        break;
    case 10: case 11: case 12: case 13:     /* a sender address */
        snprintf(k, ksz, "from:%s.%s@%s.%s", u, id, w, t);
        break;
    case 14: case 15:                       /* a recipient domain */
        snprintf(k, ksz, "to:%s.%s.%s", id, w, t);
        break;
    case 16: case 17:                       /* a bare address */
        snprintf(k, ksz, "%s%s@%s.%s", u, id, w, t);
        break;
    default:                                /* a client host name */
        snprintf(k, ksz, "connect:%s%s.%s.%s", w, id, gen_words[(h >> 32) % GEN_NWORDS], t);
        break;
    }
}

static void
gen_access(uint64_t n)
{
    static const char *const texts[] = {
        "Access denied", "Spam not accepted", "Relaying denied", "Go away",
        "Blocked by policy", "Your network is listed",
    };
    char k[128];
    uint64_t i;

    for (i = 0; i < n; i++) {
        uint64_t h = gen_hash(i, 3);
        if (gen_is_comment(i)) {
            if (h & 1)
                printf("# block %llu: entries added by the abuse desk\n", (unsigned long long)i);
            else
                putchar('\n');
            continue;
        }
        gen_access_key(k, sizeof k, i);
        fputs(k, stdout);
        putchar(h & 2 ? '\t' : ' ');
        switch ((h >> 8) % 10) {
        case 0: case 1: puts("RELAY"); break;
        case 2: case 3: puts("OK"); break;
        case 4: case 5: case 6: puts("REJECT"); break;
        case 7: puts("DISCARD"); break;
        default:
            printf("ERROR:5.7.1:550 %s\n", texts[(h >> 16) % (sizeof texts / sizeof texts[0])]);
            break;
        }
    }
}

static void
gen_keys(uint64_t n, uint64_t m)
{
    char k[128];
    uint64_t j;

    for (j = 0; j < m; j++) {
        uint64_t h = gen_hash(j, 4);
        if (h % 10 == 9 || n == 0) {
            printf("absent-%llu.example\n", (unsigned long long)j);
            continue;
        }
        uint64_t i = (h >> 8) % n;
        while (gen_is_comment(i))
            i = (i + 1) % n;
        gen_access_key(k, sizeof k, i);
        puts(k);
    }
}

static void
gen_tcprules(uint64_t n)
{
    uint64_t i;

    for (i = 0; i < n; i++) {
        uint64_t h = gen_hash(i, 5);
        uint32_t q = gen_perm24((uint32_t)i);
        unsigned a = q >> 16, b = (q >> 8) & 255, c = q & 255;
        /* one /24 per rule keeps the rules disjoint; ranges give most records */
        switch (h % 20) {
        case 0: case 1: {
            unsigned lo = (unsigned)(h >> 8) % 200, len = 1 + (unsigned)(h >> 16) % 23;
            printf("%u.%u.%u.%u-%u:allow,RELAYCLIENT=\"\"\n", a, b, c, lo, lo + len);
            break;
        }
        case 2: case 3: case 4:
            printf("%u.%u.%u.:deny\n", a, b, c);
            break;
        case 5:
            printf("=%s%u.%s.%s:allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"\n",
                   gen_words[(h >> 8) % GEN_NWORDS], (unsigned)i,
                   gen_words[(h >> 16) % GEN_NWORDS], gen_tlds[(h >> 24) % GEN_NTLDS]);
            break;
        default:
            printf("%u.%u.%u.%u:allow,RELAYCLIENT=\"\"\n", a, b, c, (unsigned)(h >> 8) & 255);
            break;
        }
    }
    puts(":allow");
}

/* /16 networks already used (one bitmap per prefix length): a policy never
 * names the same network twice. */
static unsigned char *gen_used[24];

static int
gen_net_taken(unsigned plen, uint32_t net)
{
    uint32_t idx = net >> (32 - plen);

    if (gen_used[plen] == NULL && (gen_used[plen] = calloc((1u << plen) / 8, 1)) == NULL) {
        perror("gen");
        exit(71);
    }
    if (gen_used[plen][idx / 8] & (1u << (idx % 8)))
        return 1;
    gen_used[plen][idx / 8] |= (unsigned char)(1u << (idx % 8));
    return 0;
}

static void
gen_policy(uint64_t n)
{
    static const char *const acts[] = { "relay", "ok", "reject", "relay" };
    char id[8];
    uint64_t i;

    puts("# generated relay policy");
    puts("accept domain example.org");
    puts("connect net 127.0.0.1/32 relay");
    puts("connect net ::1/128 relay");
    for (i = 0; i < n; i++) {
        uint64_t h = gen_hash(i, 6);
        uint32_t p = gen_perm((uint32_t)i);
        const char *w = gen_words[(h >> 8) % GEN_NWORDS];
        const char *t = gen_tlds[(h >> 16) % GEN_NTLDS];
        const char *act = acts[(h >> 24) % 4];
        /* mostly hosts and /24s, as real relay lists are; a few /25../30
         * (ranges for tcp.smtp, several keys for Sendmail) and /16s, each
         * network named once */
        uint32_t net = gen_perm24((uint32_t)i) << 8 | ((uint32_t)(h >> 40) & 255);
        unsigned r = (unsigned)(h >> 32) % 20, plen;

        if (r < 12)
            plen = 32;
        else if (r < 18)
            plen = 24;
        else if (r == 18)
            plen = 25 + (unsigned)(h >> 52) % 6;
        else
            plen = gen_net_taken(16, net & 0xffff0000u) ? 24 : 16;
        if (plen < 32)
            net &= ~(0xffffffffu >> plen);

        gen_b36(id, p);
        /* networks and the domains accepted for delivery: what every
         * target format can hold, so each conversion is lossless (a
         * subdomains-only domain would need Sendmail's lookupdotdomain) */
        if (h % 10 < 6)
            printf("connect net %u.%u.%u.%u/%u %s\n", net >> 24, (net >> 16) & 255,
                   (net >> 8) & 255, net & 255, plen, act);
        else
            printf("accept domain %s-%s.%s\n", w, id, t);
    }
}

int
main(int argc, char **argv)
{
    uint64_t n;

    if (argc < 4) {
        fprintf(stderr, "usage: gen access|keys|tcprules|policy N [M] SEED\n");
        return 64;
    }
    n = strtoull(argv[2], NULL, 10);
    gen_seed = strtoull(argv[argc - 1], NULL, 10);
    if (strcmp(argv[1], "access") == 0)
        gen_access(n);
    else if (strcmp(argv[1], "keys") == 0 && argc == 5)
        gen_keys(n, strtoull(argv[3], NULL, 10));
    else if (strcmp(argv[1], "tcprules") == 0)
        gen_tcprules(n);
    else if (strcmp(argv[1], "policy") == 0)
        gen_policy(n);
    else {
        fprintf(stderr, "gen: unknown mode %s\n", argv[1]);
        return 64;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gen: write");
        return 74;
    }
    return 0;
}
