/*
 * version: what this vodup is.  The version is the project's (CMakeLists.txt,
 * project VERSION), bumped for every release; the commit is `git describe`
 * of the checkout it was built from, "" when built outside git.  Printed by
 * `vodup --version`, logged at start, answered by /healthz and exported as
 * the vodup_build_info metric.
 */
#ifndef VODUP_COMMON_VERSION_H
#define VODUP_COMMON_VERSION_H

/* "0.13.0" */
const char *version_number(void);

/* "1dbc676a1b2c" or "1dbc676a1b2c-dirty"; "" when unknown. */
const char *version_commit(void);

/* "vodup 0.13.0 (1dbc676a1b2c)", or "vodup 0.13.0" without a commit. */
const char *version_string(void);

#endif
