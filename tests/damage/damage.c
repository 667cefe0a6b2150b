/*
 * damage.c - make a damaged copy of a compiled map, reproducibly (test helper).
 *
 *   damage SEED IN OUT OP...
 *
 * The ops run in order on a copy of IN held in memory; OUT is written last.
 *   zero              empty the file
 *   trunc:N           keep the first N bytes (N < 0: drop the last -N bytes;
 *                     "half": keep half)
 *   flip:LO:HI:K      flip K bits chosen at random in bytes [LO, HI)
 *                     (LO < 0 and HI <= 0 count from the end)
 *   random:FROM       bytes from FROM to the end become random
 *   set32:OFF:VAL     store VAL as a little-endian 32-bit word at OFF
 *   append:N          add N random bytes
 * The generator is Park-Miller's minimal standard, seeded from SEED, so the
 * same seed gives the same file on every machine.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t damage_state = 1;

static uint32_t
damage_rand(void)
{
    damage_state = (uint32_t)(((uint64_t)damage_state * 16807u) % 2147483647u);
    return damage_state;
}

static long
damage_num(const char *s, long size)
{
    char *end;
    long v;

    if (strcmp(s, "half") == 0)
        return size / 2;
    v = strtol(s, &end, 0);
    if (*end != '\0' && *end != ':') {
        fprintf(stderr, "damage: bad number \"%s\"\n", s);
        exit(2);
    }
    return v;
}

int
main(int argc, char **argv)
{
    unsigned char *buf = NULL;
    long size = 0, cap = 0;
    FILE *f;
    int i, c;

    if (argc < 5) {
        fprintf(stderr, "usage: damage SEED IN OUT OP...\n");
        return 2;
    }
    damage_state = (uint32_t)(strtoul(argv[1], NULL, 10) % 2147483646u) + 1;
    if ((f = fopen(argv[2], "rb")) == NULL) {
        fprintf(stderr, "damage: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    while ((c = getc(f)) != EOF) {
        if (size == cap) {
            cap = cap ? 2 * cap : 65536;
            if ((buf = realloc(buf, (size_t)cap + 65536)) == NULL)
                return 1;
        }
        buf[size++] = (unsigned char)c;
    }
    fclose(f);
    if (buf == NULL && (buf = malloc(65536)) == NULL)
        return 1;
    for (i = 4; i < argc; i++) {
        char *op = argv[i], *a = strchr(op, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        char *k = b ? strchr(b + 1, ':') : NULL;

        if (strcmp(op, "zero") == 0) {
            size = 0;
        } else if (strncmp(op, "trunc:", 6) == 0) {
            long n = damage_num(a + 1, size);
            size = n < 0 ? (size + n > 0 ? size + n : 0) : (n < size ? n : size);
        } else if (strncmp(op, "flip:", 5) == 0 && b && k) {
            long lo = damage_num(a + 1, size), hi = damage_num(b + 1, size);
            long n = damage_num(k + 1, size), j;
            if (lo < 0)
                lo += size;
            if (hi <= 0)
                hi += size;
            for (j = 0; j < n && hi > lo; j++) {
                long at = lo + (long)(damage_rand() % (uint32_t)(hi - lo));
                buf[at] ^= (unsigned char)(1u << (damage_rand() % 8));
            }
        } else if (strncmp(op, "random:", 7) == 0) {
            long j;
            for (j = damage_num(a + 1, size); j < size; j++)
                buf[j] = (unsigned char)(damage_rand() >> 7);
        } else if (strncmp(op, "set32:", 6) == 0 && b) {
            long at = damage_num(a + 1, size);
            uint32_t v = (uint32_t)strtoul(b + 1, NULL, 0);
            if (at < 0 || at + 4 > size) {
                fprintf(stderr, "damage: set32 outside the file\n");
                return 2;
            }
            buf[at] = (unsigned char)v;
            buf[at + 1] = (unsigned char)(v >> 8);
            buf[at + 2] = (unsigned char)(v >> 16);
            buf[at + 3] = (unsigned char)(v >> 24);
        } else if (strncmp(op, "append:", 7) == 0) {
            long n = damage_num(a + 1, size);
            if ((buf = realloc(buf, (size_t)(size + n) + 1)) == NULL)
                return 1;
            while (n-- > 0)
                buf[size++] = (unsigned char)(damage_rand() >> 7);
        } else {
            fprintf(stderr, "damage: unknown op \"%s\"\n", op);
            return 2;
        }
    }
    if ((f = fopen(argv[3], "wb")) == NULL
        || (size > 0 && fwrite(buf, 1, (size_t)size, f) != (size_t)size) || fclose(f) != 0) {
        fprintf(stderr, "damage: %s: %s\n", argv[3], strerror(errno));
        return 1;
    }
    free(buf);
    return 0;
}
