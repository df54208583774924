/* version: see version.h.  VODUP_VERSION and VODUP_COMMIT come from CMake. */
#include "common/version.h"

#ifndef VODUP_VERSION
#define VODUP_VERSION "0.0.0"
#endif
#ifndef VODUP_COMMIT
#define VODUP_COMMIT ""
#endif

const char *version_number(void)
{
    return VODUP_VERSION;
}

const char *version_commit(void)
{
    return VODUP_COMMIT;
}

const char *version_string(void)
{
    return VODUP_COMMIT[0] ? "vodup " VODUP_VERSION " (" VODUP_COMMIT ")" : "vodup " VODUP_VERSION;
}
