/* cli_complete.h — `mcpdeck __complete WHAT [ARG] [PREFIX]`: the dynamic
 * candidates the shell completion scripts (completions/) ask for. */
#ifndef MCPDECK_CLI_COMPLETE_H
#define MCPDECK_CLI_COMPLETE_H

#include <stdio.h>

struct cli_opts;

/* argv is what follows "__complete": WHAT, then for "tools" the SERVER,
 * then an optional PREFIX (only candidates starting with it are printed).
 * WHAT is one of
 *   servers       configured servers, the built-ins (fs, git, memory, and
 *                 shell when shell.enabled) and those added at run time
 *   tools SERVER  a built-in's tools from its table; for any server also
 *                 the tools its past jobs called (newest first). No
 *                 server is started, so a configured server's tools are
 *                 only known once a job has called them
 *   jobs          the 50 newest job ids with status and what they ran
 *   namespaces    memory namespaces from the config
 *   models        configured models and aliases
 *   themes, formats, task-types, capabilities, log-levels, statuses,
 *   modes         fixed vocabularies (task types from the catalog)
 * Writes one candidate per line to out: the candidate, optionally a tab
 * and a short description (fish reads that format as it is). Fast and
 * side-effect free: the config is loaded, the database is opened
 * read-only (a missing database means no candidates), no engine is made,
 * nothing is started, nothing is written. Returns 0, or 2 for an unknown
 * WHAT or a config that does not load (message on stderr). */
int cli_complete(const struct cli_opts *o, int argc, char **argv, FILE *out);

#endif
