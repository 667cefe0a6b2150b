/*
 * relaytest_report.c - the report of a relaytest run as a table or as JSON,
 * written to a stream the caller owns (relaytest(8) shows both forms).
 */
#include "libmap/relaytest.h"

#include <stdio.h>
#include <string.h>

#include "libmap/json.h"

#define RT_REPLY_MAX 60     /* reply column width in the table */

/* First line of a reply (or of an error text), cut to fit the table. */
static void
rtreport_cell(char *out, size_t outlen, const char *text)
{
    size_t n = strcspn(text, "\n");

    if (n < outlen)
        snprintf(out, outlen, "%.*s", (int)n, text);
    else
        snprintf(out, outlen, "%.*s...", (int)(outlen - 4), text);
}

struct rtreport_row {
    char num[8];
    const char *what, *from, *to, *verdict;
    char reply[RT_REPLY_MAX + 1];
};

static size_t
rtreport_rows(const struct lm_rt_result *res, struct rtreport_row *row)
{
    size_t i, n = 0;
    char err[LM_SMTP_ERRLEN + 8];

    memset(row, 0, LM_RT_MAXRCPT * sizeof *row);
    snprintf(row[0].num, sizeof row[0].num, "%d", res->num);
    row[0].what = res->probe->what;
    row[0].from = res->from != NULL ? res->from : "-";
    if (res->error_text != NULL)
        snprintf(err, sizeof err, "(%s)", res->error_text);
    if (res->at_mail || res->verdict == LM_RT_NOTRUN || res->from == NULL) {
        row[0].to = "-";
        rtreport_cell(row[0].reply, sizeof row[0].reply,
                       res->mail.code != 0 ? res->mail.text : res->error_text ? err : "");
        row[0].verdict = lm_rt_verdict_name(res->verdict);
        return 1;
    }
    for (i = 0; i < res->nrcpt; i++) {
        const struct lm_rt_rcpt *rr = &res->rcpt[i];

        if (i > 0) {
            row[n].what = row[n].from = "";
        }
        row[n].to = rr->to;
        rtreport_cell(row[n].reply, sizeof row[n].reply, rr->reply.code != 0
                       ? rr->reply.text : rr->sent && res->error_text ? err : "(not sent)");
        row[n].verdict = lm_rt_verdict_name(rr->sent ? rr->verdict : LM_RT_NOTRUN);
        n++;
    }
    return n;
}

static void
rtreport_print_table(FILE *out, const struct lm_rt_report *rep)
{
    struct rtreport_row rows[LM_RT_NPROBES * LM_RT_MAXRCPT];
    size_t nrows = 0, i, w[5] = { 1, 4, 9, 7, 5 };
    const char *sep = "";

    for (i = 0; i < rep->n; i++)
        nrows += rtreport_rows(&rep->r[i], rows + nrows);
    for (i = 0; i < nrows; i++) {
        const struct rtreport_row *r = &rows[i];
#define RT_W(k, s) if (strlen(s) > w[k]) w[k] = strlen(s)
        RT_W(0, r->num); RT_W(1, r->what); RT_W(2, r->from); RT_W(3, r->to);
        RT_W(4, r->reply);
#undef RT_W
    }
    fprintf(out, "server: %s [%s] at %s\n", rep->server_name, rep->server_ip,
           rep->peer != NULL ? rep->peer : "?");
    fprintf(out, "banner: %.*s\n", (int)strcspn(rep->banner, "\n"), rep->banner);
    fprintf(out, "%*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], "#", (int)w[1], "test",
           (int)w[2], "MAIL FROM", (int)w[3], "RCPT TO", (int)w[4], "reply", "verdict");
    for (i = 0; i < nrows; i++) {
        const struct rtreport_row *r = &rows[i];
        fprintf(out, "%*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], r->num, (int)w[1], r->what,
               (int)w[2], r->from, (int)w[3], r->to, (int)w[4], r->reply, r->verdict);
    }
    for (i = 0; i < rep->n; i++) {
        const struct lm_rt_result *res = &rep->r[i];
        size_t j;

        if (!res->maybe_local)
            continue;
        for (j = 0; j < res->nrcpt && res->rcpt[j].verdict != LM_RT_RELAYED; j++)
            ;
        fprintf(out, "note: probe %d: %s has no domain or names this server: an MTA that "
               "ignores the trick delivers it locally (Exim does with x%%y@itself); see "
               "where it goes (exim -bt, sendmail -bv) before calling the server open\n",
               res->num, res->rcpt[j].to);
    }
    fprintf(out, "summary: %zu probe%s: %zu relayed, %zu denied, %zu temp-failed, %zu error%s",
           rep->n, rep->n == 1 ? "" : "s", rep->nrelayed, rep->ndenied, rep->ntempfail, rep->nerror + rep->nnotrun,
           rep->nerror + rep->nnotrun == 1 ? "" : "s");
    if (rep->nrelayed > 0) {
        fprintf(out, ": OPEN RELAY (probe ");
        for (i = 0; i < rep->n; i++)
            if (rep->r[i].verdict == LM_RT_RELAYED) {
                fprintf(out, "%s%d", sep, rep->r[i].num);
                sep = ", ";
            }
        fprintf(out, ")\n");
    } else if (rep->ntempfail + rep->nerror + rep->nnotrun > 0) {
        fprintf(out, ": no probe relayed, but not every probe got an answer\n");
    } else {
        fprintf(out, ": no probe relayed\n");
    }
}

static void
rtreport_json_str(FILE *out, const char *key, const char *s, const char *after)
{
    fprintf(out, "\"%s\": ", key);
    if (s == NULL)
        fputs("null", out);
    else
        lm_json_string(out, s, strlen(s));
    fputs(after, out);
}

static void
rtreport_json_reply(FILE *out, const char *key, const struct lm_smtp_reply *r, const char *after)
{
    fprintf(out, "\"%s\": ", key);
    if (r->text == NULL || r->code == 0) {
        fprintf(out, "null%s", after);
        return;
    }
    fprintf(out, "{\"code\": %d, ", r->code);
    rtreport_json_str(out, "text", r->text, "}");
    fputs(after, out);
}

static const char *
rtreport_err_name(enum lm_smtp_err e)
{
    switch (e) {
    case LM_SMTP_ECONNECT:  return "connect";
    case LM_SMTP_ETIMEOUT:  return "timeout";
    case LM_SMTP_EPROTOCOL: return "protocol";
    case LM_SMTP_EDROPPED:  return "dropped";
    case LM_SMTP_OK:        break;
    }
    return NULL;
}

static void
rtreport_print_json(FILE *out, const struct lm_rt_report *rep, int rc, int code)
{
    size_t i, j;

    fprintf(out, "{\n  \"server\": {");
    rtreport_json_str(out, "name", rep->server_name, ", ");
    rtreport_json_str(out, "ip", rep->server_ip, ", ");
    rtreport_json_str(out, "peer", rep->peer, ", ");
    rtreport_json_str(out, "banner", rep->banner, ", ");
    fprintf(out, "\"esmtp\": %s, \"sessions\": %zu},\n", rep->esmtp ? "true" : "false",
           rep->connects);
    fprintf(out, "  ");
    rtreport_json_str(out, "failure", rc < 0 ? rtreport_err_name(rep->fail) : NULL, ",\n");
    fprintf(out, "  \"probes\": [");
    for (i = 0; i < rep->n; i++) {
        const struct lm_rt_result *res = &rep->r[i];
        char v[16];

        fprintf(out, "%s\n    {\"probe\": %d, ", i ? "," : "", res->num);
        rtreport_json_str(out, "name", res->probe->name, ", ");
        rtreport_json_str(out, "what", res->probe->what, ", ");
        rtreport_json_str(out, "mail_from", res->from, ", ");
        rtreport_json_reply(out, "mail_reply", &res->mail, ",\n     \"rcpt\": [");
        for (j = 0; j < res->nrcpt; j++) {
            const struct lm_rt_rcpt *rr = &res->rcpt[j];
            fprintf(out, "%s{", j ? ", " : "");
            rtreport_json_str(out, "to", rr->to, ", ");
            fprintf(out, "\"sent\": %s, ", rr->sent ? "true" : "false");
            rtreport_json_reply(out, "reply", &rr->reply, ", ");
            fprintf(out, "\"verdict\": \"%s\", \"local_target\": %s}",
                   rr->sent ? lm_rt_verdict_name(rr->verdict) : "not-run",
                   rr->local_target ? "true" : "false");
        }
        snprintf(v, sizeof v, "%s", lm_rt_verdict_name(res->verdict));
        if (res->verdict == LM_RT_RELAYED)
            strcpy(v, "relayed");
        fprintf(out, "],\n     \"verdict\": \"%s\", \"stage\": \"%s\", ", v,
               res->from == NULL ? "connect" : res->at_mail ? "mail" : "rcpt");
        rtreport_json_str(out, "error", rtreport_err_name(res->error), ", ");
        rtreport_json_str(out, "error_text", res->error_text, ", ");
        fprintf(out, "\"maybe_local\": %s}", res->maybe_local ? "true" : "false");
    }
    fprintf(out, "\n  ],\n  \"summary\": {\"probes\": %zu, \"relayed\": %zu, \"denied\": %zu, "
           "\"temp_failed\": %zu, \"errors\": %zu, \"not_run\": %zu, \"open_relay\": %s},\n"
           "  \"exit\": %d\n}\n", rep->n, rep->nrelayed, rep->ndenied, rep->ntempfail,
           rep->nerror, rep->nnotrun, rep->nrelayed ? "true" : "false", code);
}

void
lm_rt_report_print(FILE *out, const struct lm_rt_report *rep, int json, int failed, int code)
{
    if (json)
        rtreport_print_json(out, rep, failed ? -1 : 0, code);
    else
        rtreport_print_table(out, rep);
}
