/*
 * formats/registry.c - the table of policy codecs built into libmap, looked
 * up by name (relayconv --from/--to).  A new codec is one row here and one
 * file in formats/; the table is static and never changes at run time.
 */
#include <stddef.h>
#include <string.h>

#include "libmap/codec.h"

static const struct lm_codec *const registry_table[] = {
    &lm_codec_policy,
    &lm_codec_sendmail,
    &lm_codec_qmail,
    &lm_codec_qmail6,
    &lm_codec_postfix,
    &lm_codec_exim,
    &lm_codec_exchange,
    &lm_codec_antirelay,
    NULL
};

const struct lm_codec *const *
lm_codecs(void)
{
    return registry_table;
}

const struct lm_codec *
lm_codec_find(const char *name)
{
    size_t i;

    for (i = 0; registry_table[i] != NULL; i++)
        if (strcmp(registry_table[i]->name, name) == 0)
            return registry_table[i];
    return NULL;
}

size_t
lm_codec_noutputs(const struct lm_codec *c)
{
    size_t n = 0;

    while (c->outputs[n] != NULL)
        n++;
    return n;
}

const char *
lm_path_base(const char *path)
{
    const char *b;

    if (path == NULL)
        return "";
    b = strrchr(path, '/');
    return b != NULL ? b + 1 : path;
}

int
lm_codec_part(const struct lm_codec *c, const char *path)
{
    const char *b = lm_path_base(path);
    int i;

    for (i = 0; c->outputs[i] != NULL; i++)
        if (strcmp(b, c->outputs[i]) == 0)
            return i;
    return -1;
}
