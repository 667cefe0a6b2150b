/*
 * ndbm.c - the dbm anchor for bench/run.sh: what a program gets from the
 * ndbm(3) API with its default settings (on Debian, GDBM's compatibility
 * layer), written as the obvious loop a makemap built with NDBM would run.
 *
 *   ndbm NAME <SOURCE     store every "key value" line (makemap rules:
 *                         '#' in column 1, key folded to lower case)
 *   ndbm -u NAME          print every record as "key<TAB>value"
 */
#include <ctype.h>
#include <fcntl.h>
#include <ndbm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
ndbm_load(char *name)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    DBM *db;
    int rc = 0;

    if ((db = dbm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0644)) == NULL) {
        perror(name);
        return 73;
    }
    while ((len = getline(&line, &cap, stdin)) > 0) {
        char *k = line, *v;
        datum key, val;

        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        for (v = k; *v && !isspace((unsigned char)*v); v++)
            *v = (char)tolower((unsigned char)*v);
        key.dptr = k;
        key.dsize = (int)(v - k);
        while (*v && isspace((unsigned char)*v))
            v++;
        val.dptr = v;
        val.dsize = (int)(line + len - v);
        if (dbm_store(db, key, val, DBM_INSERT) < 0) {
            perror("dbm_store");
            rc = 74;
            break;
        }
    }
    free(line);
    dbm_close(db);
    return rc;
}

static int
ndbm_dump(char *name)
{
    DBM *db;
    datum k, v;

    if ((db = dbm_open(name, O_RDONLY, 0)) == NULL) {
        perror(name);
        return 66;
    }
    for (k = dbm_firstkey(db); k.dptr != NULL; k = dbm_nextkey(db)) {
        v = dbm_fetch(db, k);
        printf("%.*s\t%.*s\n", k.dsize, k.dptr, v.dsize, v.dptr ? v.dptr : "");
    }
    dbm_close(db);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "-u") == 0)
        return ndbm_dump(argv[2]);
    if (argc == 2)
        return ndbm_load(argv[1]);
    fprintf(stderr, "usage: ndbm NAME <SOURCE | ndbm -u NAME\n");
    return 64;
}
