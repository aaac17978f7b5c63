/* SPDX-License-Identifier: MIT */
#pragma once

#include <getopt.h>

#include "util.h"

/* The command line of healthdog's programs: a table of verbs, each one short function, and the
 * options every verb shares. The table also prints the help. */
typedef struct Verb {
        const char *name;
        const char *args;
        const char *help;       /* first line: the summary in the verb list */
        int (*run)(int argc, char *argv[]);
        const char *options;    /* the --help lines of the verb's own options, or NULL */
} Verb;

typedef struct Program {
        const char *name;               /* "healthdog" */
        const char *usage_prefix;       /* what stands between the name and VERB in the usage, or "" */
        const char *summary;            /* a paragraph under the usage line */
        const Verb *verbs;              /* ends with { NULL } */
        const struct option *shared;    /* options every verb takes besides --help, ends with {} */
        const char *shared_short;       /* their short letters, for getopt ("c:") */
        const char *shared_help;        /* their --help lines */
        int (*on_shared)(int c, const char *arg); /* stores one; returns 0 or -1 (reported) */
        const char *footer;             /* after every help text (exit codes), or "" */
        int column;                     /* width of the verb column in the verb list */
} Program;

/* Takes one of a verb's own options (c is its val); reports a bad value itself. Returns 0 or -1. */
typedef int (*option_handler_t)(const Verb *v, int c, const char *arg);

const Verb *verbs_find(const Program *p, const char *name);
void verbs_help(const Program *p, FILE *f);
void verbs_help_verb(const Program *p, const Verb *v, FILE *f);

/* Parses the shared options and the verb's own (own ends with {}, each given to on_option).
 * Returns the index of the first argument that is not an option, 0 when help was shown, or -1
 * for a usage error (reported, with the verb's help on stderr). */
int verbs_parse_options(const Program *p, const Verb *v, int argc, char *argv[], const struct option *own,
                        option_handler_t on_option);
