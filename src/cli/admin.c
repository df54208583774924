/*
 * admin: `vodup admin`, the operator's tool for what getUploadToken refers
 * to: AccessKeys (and the accounts they belong to), playback domains and
 * processing resources (workflows, watermarks, templates, subtitles).
 *
 * It works on DIR/vodup.db through the store interface only, so it is safe
 * beside a running `vodup serve` (WAL and the busy timeout make the two
 * processes take turns).  Resource files are copied under DIR/resources/
 * with private permissions before their row is committed.  It must never
 * print a SecretKey except the one `key create` just made, and never leave
 * a usage error unexplained: one line on stderr, exit status 2.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/admin_internal.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "process/spec.h"
#include "store/store.h"

#define ADMIN_PATH_MAX 4096
#define ADMIN_DOMAIN_MAX 253



/* ---- usage ---- */

static const char admin_usage_head[] =
    "usage: vodup admin --data DIR [--account NAME|AK] [--json] <object> <verb> [args]\n"
    "\n"
    "Manages AccessKeys, playback domains, processing resources and webhooks in\n"
    "DIR/vodup.db, "
    "also while `vodup serve` runs on the same directory.\n"
    "\n"
    "Global options (before the object):\n"
    "  --data DIR           data directory (created mode 0700 if missing)\n"
    "  --account NAME|AK    the account a domain or resource command acts on, by\n"
    "                       account name or by one of its AccessKeys; may be left\n"
    "                       out when exactly one account exists\n"
    "  --json               print JSON instead of aligned text\n"
    "  -h, --help           print this help (also after an object or a verb)\n";

static const struct admin_usage_section {
    const char *object;
    const char *text;
} admin_usage_sections[] = {
    {"key",
     "\nAccessKeys:\n"
     "  key create [--name NAME]     create a key; it joins the account NAME if that\n"
     "                               exists, else a new account with its own bucket\n"
     "                               (a generated name when NAME is left out)\n"
     "  key list                     list keys (SecretKeys are never shown)\n"
     "  key disable AK               refuse requests signed with AK\n"
     "  key enable AK                accept AK again\n"
     "  key delete AK                remove AK for good (not its account's last key)\n"},
    {"domain",
     "\nPlayback domains:\n"
     "  domain add NAME [--default]  add a domain (host[:port], optionally with\n"
     "                               http:// or https://); the account's first\n"
     "                               domain, or one added with --default, is the default\n"
     "  domain list                  list the account's domains\n"
     "  domain remove NAME           remove it; the oldest remaining one becomes the\n"
     "                               default if it was; videos keep their playUrl\n"},
    {"workflow",
     "\nWorkflows (NAME: 1..64 of A-Z a-z 0-9 . _ -, not starting with '.'):\n"
     "  workflow add NAME --step KIND[=ARG] [--step KIND[=ARG]]...\n"
     "                               steps run in order; KIND is probe,\n"
     "                               transcode=TEMPLATE, watermark=WATERMARK,\n"
     "                               subtitle=SUBTITLEID or snapshot; prints the workflowId\n"
     "  workflow list\n"
     "  workflow remove WORKFLOWID   (each kind: remove ID|NAME; tasks already queued\n"
     "                               keep the copy they were given)\n"},
    {"watermark",
     "\nWatermarks:\n"
     "  watermark add NAME --image FILE [--position POS] [--offset-x PX]\n"
     "                [--offset-y PX] [--opacity 0..1]\n"
     "                               POS: top-left, top-right (default), bottom-left,\n"
     "                               bottom-right or center; offsets default to 16;\n"
     "                               opacity to 1; FILE is copied into DIR/resources/\n"
     "  watermark list, watermark remove NAME\n"},
    {"template",
     "\nTranscoding templates (a set of renditions in one container):\n"
     "  template add NAME [--container mp4|webm|mkv|hls]\n"
     "                [--video-codec h264|h265|vp9|av1|copy] [--audio-codec aac|opus|mp3|copy]\n"
     "                [--audio-bitrate KBPS] [--rendition WxH[@KBPS]]...\n"
     "                               each --rendition adds one (at most 8): a box of\n"
     "                               16..8192 pixels a side, either orientation, never\n"
     "                               upscaled; KBPS 1..100000 (else the encoder's choice);\n"
     "                               hls makes one variant per rendition\n"
     "  template add NAME ... [--width PX] [--height PX] [--video-bitrate KBPS]\n"
     "                               the one-rendition shorthand (not with --rendition);\n"
     "                               0 keeps the source's side or leaves the bitrate to\n"
     "                               the encoder; neither: one rendition of the source's size\n"
     "                               defaults: mp4, h264, aac (webm: vp9, opus)\n"
     "  template list, template remove NAME\n"},
    {"subtitle",
     "\nSubtitles:\n"
     "  subtitle add NAME --file FILE [--language CODE] [--mode burn|soft]\n"
     "                               FILE ends in .srt, .vtt or .ass and is copied into\n"
     "                               DIR/resources/; CODE like en or pt-BR (default und);\n"
     "                               burn (default) draws the text into the picture, soft\n"
     "                               adds a WebVTT track; prints the subtitleId\n"
     "  subtitle list, subtitle remove SUBTITLEID\n"},
    {"webhook",
     "\nWebhooks (docs/events.md):\n"
     "  webhook add URL [--events TYPE[,TYPE]...]\n"
     "                               POST the account's events to URL (http or https),\n"
     "                               signed with a secret this prints; TYPE is\n"
     "                               FileUploadComplete, ProcessingComplete,\n"
     "                               ProcessingFailed or VideoDeleted (default: all)\n"
     "  webhook list                 the account's webhooks, with their secrets\n"
     "  webhook remove WEBHOOKID     stop sending to it (its pending deliveries are dropped)\n"
     "  webhook deliveries [WEBHOOKID] [--limit N]\n"
     "                               the latest deliveries (20; at most 1000): state,\n"
     "                               attempts, last status and error\n"},
    {"playback",
     "\nPlayback access (docs/playback.md):\n"
     "  playback show                the account's access (public or signed) and its key\n"
     "  playback set public|signed [--rotate-key]\n"
     "                               signed: only signed URLs (getPlayInfo, getVideoInfo)\n"
     "                               play; the key (hex) is for a CDN that checks them too;\n"
     "                               --rotate-key invalidates every URL signed before\n"},
    {"upload-link",
     "\nUpload links (docs/upload-links.md):\n"
    "  upload-link create [--expires DURATION] [--max-size N] [--uses N]\n"
    "                [--template NAME] [--workflow ID] [--url BASE]\n"
    "                               prints a URL whose page lets whoever holds it upload\n"
    "                               N videos (default 1) of at most N bytes (K, M, G\n"
    "                               suffixes) until DURATION has passed (90s, 30m, 24h\n"
    "                               (default), 7d; at most 30d); BASE: the server's\n"
    "                               public URL (default: the one it last started with)\n"},
};

static const char admin_usage_tail[] = "\nExit status: 0 success, 1 failure, 2 usage error.\n";

/* Prints the usage: all of it, or the global part and one object's section. */
static void admin_usage(FILE *f, const char *object)
{
    fputs(admin_usage_head, f);
    for (size_t i = 0; i < sizeof(admin_usage_sections) / sizeof(admin_usage_sections[0]); i++)
        if (!object || !strcmp(object, admin_usage_sections[i].object))
            fputs(admin_usage_sections[i].text, f);
    fputs(admin_usage_tail, f);
}

/* ---- messages ---- */

__attribute__((format(printf, 1, 2))) int admin_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("vodup admin: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see 'vodup admin --help')\n", stderr);
    return 2;
}

__attribute__((format(printf, 1, 2))) int admin_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("vodup admin: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* Explains a store failure in the operator's terms. */
int admin_store_fail(int rc, const char *what)
{
    switch (rc) {
    case STORE_EXISTS:
        return admin_fail("%s already exists", what);
    case STORE_NOT_FOUND:
        return admin_fail("%s: not found", what);
    case STORE_UNAVAILABLE:
        return admin_fail("%s: the database is busy or unavailable (disk full?); try again", what);
    default:
        return admin_fail("%s: %s", what, store_rc_name(rc));
    }
}

/* ---- validation ---- */

/* Parses a whole decimal integer in [min, max]. */
bool admin_parse_int(const char *s, long min, long max, long *out)
{
    if (!*s || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/*
 * Normalizes a playback domain: host[:port], optionally after http:// or
 * https:// and followed by a path.  The scheme and host are lowercased
 * because host names are case-insensitive; the result is what getUploadToken's
 * `domain` parameter must name.
 */
static bool admin_domain_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n > ADMIN_DOMAIN_MAX || n >= outlen)
        return false;
    memcpy(out, in, n + 1);
    char *host = out;
    if (!strncasecmp(out, "http://", 7))
        host = out + 7;
    else if (!strncasecmp(out, "https://", 8))
        host = out + 8;
    else if (strstr(out, "://"))
        return false;
    for (char *p = out; p < host; p++)
        *p = (char)tolower((unsigned char)*p);

    /* Labels of letters, digits and inner hyphens, separated by dots. */
    char *p = host;
    size_t label = 0;
    for (; *p && *p != ':' && *p != '/'; p++) {
        if (*p == '.') {
            if (label == 0 || p[-1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)*p) && !(*p == '-' && label > 0))
            return false;
        if (++label > 63)
            return false;
        *p = (char)tolower((unsigned char)*p);
    }
    if (p == host || label == 0 || p[-1] == '-')
        return false;
    if (*p == ':') {
        char *port = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        long v;
        char saved = *p;
        *p = '\0';
        bool ok = admin_parse_int(port, 1, 65535, &v);
        *p = saved;
        if (!ok)
            return false;
    }
    if (*p == '/') {
        if (host == out)
            return false; /* a path needs the scheme, or it is not a URL */
        for (; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("/-._~", *p))
                return false;
        if (p[-1] == '/')
            return false; /* playUrl adds the slash itself */
    }
    return *p == '\0';
}

/* ---- option parsing ---- */

/* Handles one of a verb's own options; returns -1 to go on, else an exit
 * status. */
typedef int (*admin_opt_fn)(void *state, int id, const char *arg);

/*
 * Parses a verb's options (argv[0] is the verb).  The global options are
 * accepted here too, so `--json` after the verb works as expected.  Returns -1
 * to go on (positional arguments in ctx->pos), else an exit status.
 */
int admin_parse_verb(admin_ctx_t *ctx, int argc, char **argv, const struct option *opts,
                            admin_opt_fn on_opt, void *state)
{
    optind = 0; /* glibc: start over on a new argv */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            admin_usage(stdout, ctx->object);
            return 0;
        case ADMIN_OPT_DATA:
            ctx->data_dir = optarg;
            break;
        case ADMIN_OPT_ACCOUNT:
            ctx->account = optarg;
            break;
        case ADMIN_OPT_JSON:
            ctx->json = true;
            break;
        case ':':
            return admin_usage_error("option '%s' needs a value", argv[optind - 1]);
        case '?':
            if (optopt)
                return admin_usage_error("unknown option '-%c' for '%s %s'", optopt, ctx->object, argv[0]);
            return admin_usage_error("unknown option '%s' for '%s %s'", argv[optind - 1], ctx->object, argv[0]);
        default: {
            int r = on_opt ? on_opt(state, c, optarg) : admin_usage_error("unexpected option");
            if (r >= 0)
                return r;
        }
        }
    }
    ctx->pos = argv + optind;
    ctx->npos = argc - optind;
    return -1;
}

/* Checks the number of positional arguments; returns -1 when right. */
int admin_expect_args(admin_ctx_t *ctx, const char *verb, int n, const char *what)
{
    if (ctx->npos < n)
        return admin_usage_error("'%s %s' needs %s", ctx->object, verb, what);
    if (ctx->npos > n)
        return admin_usage_error("unexpected argument '%s'", ctx->pos[n]);
    return -1;
}

/* ---- files and the store ---- */

/* mkdir -p, each created component mode 0700. */
static bool admin_mkdirs(const char *path)
{
    char p[ADMIN_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(p))
        return false;
    memcpy(p, path, n + 1);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char saved = *s;
            *s = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST)
                return false;
            *s = saved;
            if (!saved)
                break;
        }
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int admin_open(admin_ctx_t *ctx)
{
    if (ctx->store)
        return -1;
    if (!ctx->data_dir || !ctx->data_dir[0])
        return admin_usage_error("--data DIR is required");
    char path[ADMIN_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/vodup.db", ctx->data_dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return admin_fail("data directory path too long");
    if (!admin_mkdirs(ctx->data_dir))
        return admin_fail("cannot create the data directory %s: %s", ctx->data_dir, strerror(errno));
    /* FULL: an admin change is rare and must survive a crash that follows. */
    store_sqlite_options_t opt = {.path = path, .sync_full = true, .busy_timeout_ms = 5000, .read_connections = 1};
    ctx->store = store_sqlite_open(&opt);
    if (!ctx->store)
        return admin_fail("cannot open the database %s", path);
    return -1;
}

/* The account a domain or resource command acts on: --account, else the
 * only one there is. */
static int admin_account(admin_ctx_t *ctx, int64_t *account_id)
{
    store_t *s = ctx->store;
    int rc;
    if (ctx->account) {
        rc = s->ops->account_find(s, ctx->account, account_id);
        if (rc == STORE_NOT_FOUND)
            return admin_fail("no account is named '%s' or has it as an AccessKey", ctx->account);
        return rc == STORE_OK ? -1 : admin_store_fail(rc, "finding the account");
    }
    int64_t count = 0;
    rc = s->ops->account_count(s, &count);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "counting accounts");
    if (count == 0)
        return admin_usage_error("there is no account yet; create one with 'key create'");
    if (count > 1)
        return admin_usage_error("there are %lld accounts; say which with --account NAME|AK", (long long)count);
    /* Every account is created with a key, so the one account has one. */
    store_key_list_t keys;
    rc = s->ops->key_list(s, &keys);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing keys");
    bool found = keys.count > 0;
    if (found)
        *account_id = keys.items[0].account_id;
    store_key_list_free(&keys);
    return found ? -1 : admin_fail("the only account has no key");
}

/* Prints a JSON value on one line; takes the reference. */
int admin_print_json(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!text)
        return admin_fail("out of memory");
    puts(text);
    free(text);
    return 0;
}

/* ---- aligned text tables ---- */


bool admin_table_add(admin_table_t *t, const char *const *row)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **n = realloc(t->cells, ncap * t->ncols * sizeof(*n));
        if (!n)
            return false;
        t->cells = n;
        t->cap = ncap;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        char *cell = strdup(row[c] ? row[c] : "");
        if (!cell) {
            while (c-- > 0)
                free(t->cells[t->nrows * t->ncols + c]);
            return false;
        }
        t->cells[t->nrows * t->ncols + c] = cell;
    }
    t->nrows++;
    return true;
}

void admin_table_print(const admin_table_t *t)
{
    size_t width[16] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols && c < 16; c++) {
            size_t w = strlen(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        /* Padding stops at the last non-empty cell: no trailing blanks. */
        size_t last = t->ncols;
        while (last > 1 && !t->cells[r * t->ncols + last - 1][0])
            last--;
        for (size_t c = 0; c < last; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            if (c + 1 == last)
                printf("%s\n", cell);
            else
                printf("%-*s  ", (int)width[c], cell);
        }
    }
}

void admin_table_free(admin_table_t *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

int admin_list_output(const admin_ctx_t *ctx, json_t *arr, admin_table_t *t, bool ok)
{
    if (!ok) {
        json_decref(arr);
        admin_table_free(t);
        return admin_fail("out of memory");
    }
    if (ctx->json)
        return admin_print_json(arr);
    admin_table_print(t);
    admin_table_free(t);
    return 0;
}

/* Prints "label  value" lines with the labels aligned. */
void admin_print_pairs(const char *const *pairs, size_t n)
{
    int w = 0;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(pairs[2 * i]) > w)
            w = (int)strlen(pairs[2 * i]);
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %s\n", w, pairs[2 * i], pairs[2 * i + 1]);
}

/* ---- key ---- */

static int admin_key_create_opt(void *state, int id, const char *arg)
{
    const char **name = state;
    if (id != 'n')
        return admin_usage_error("unexpected option");
    /* Account names follow the resource names' path-safe rule. */
    if (!spec_name_valid(arg))
        return admin_usage_error("account name '%s' must be 1..%d of A-Z a-z 0-9 . _ - (not starting with '.')",
                                 arg, SPEC_NAME_MAX);
    *name = arg;
    return -1;
}

/* The name of an account given by id (via its keys). */
/* admin_open, then admin_account: what every account-scoped verb needs. */
int admin_open_account(admin_ctx_t *ctx, int64_t *account_id)
{
    int r = admin_open(ctx);
    return r < 0 ? admin_account(ctx, account_id) : r;
}

static int admin_account_name(admin_ctx_t *ctx, int64_t account_id, char **name)
{
    store_key_list_t keys;
    int rc = ctx->store->ops->key_list(ctx->store, &keys);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing keys");
    *name = NULL;
    for (size_t i = 0; i < keys.count && !*name; i++)
        if (keys.items[i].account_id == account_id)
            *name = strdup(keys.items[i].account_name);
    store_key_list_free(&keys);
    return *name ? -1 : admin_fail("cannot find the account's name");
}

static int admin_key_create(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'}, ADMIN_COMMON_OPTIONS};
    const char *name = NULL;
    char *resolved = NULL;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_key_create_opt, &name);
    if (r < 0)
        r = admin_expect_args(ctx, "create", 0, "");
    if (r < 0)
        r = admin_open(ctx);
    if (r < 0 && !name && ctx->account) {
        /* --account names an existing account to join. */
        int64_t account_id;
        r = admin_account(ctx, &account_id);
        if (r < 0)
            r = admin_account_name(ctx, account_id, &resolved);
        name = resolved;
    }
    if (r >= 0) {
        free(resolved);
        return r;
    }
    store_key_t key;
    int rc = ctx->store->ops->key_create(ctx->store, name, &key);
    free(resolved);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "creating the key");
    if (ctx->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "accessKey", key.access_key, "secretKey", key.secret_key,
                              "account", key.account_name, "bucket", key.bucket);
        r = admin_print_json(j);
    } else {
        const char *pairs[] = {"AccessKey", key.access_key, "SecretKey", key.secret_key,
                               "account", key.account_name, "bucket", key.bucket};
        admin_print_pairs(pairs, 4);
        r = 0;
    }
    store_key_free(&key);
    return r;
}

static int admin_key_list(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "list", 0, "");
    if (r < 0)
        r = admin_open(ctx);
    int64_t only = -1;
    if (r < 0 && ctx->account)
        r = admin_account(ctx, &only);
    if (r >= 0)
        return r;

    store_key_list_t keys;
    int rc = ctx->store->ops->key_list(ctx->store, &keys);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing keys");
    json_t *arr = ctx->json ? json_array() : NULL;
    admin_table_t t = {.ncols = 5};
    bool ok = ctx->json ? arr != NULL : admin_table_add(&t, (const char *const[]){"ACCESS KEY", "ACCOUNT", "BUCKET", "ENABLED", "CREATED"});
    for (size_t i = 0; ok && i < keys.count; i++) {
        const store_key_t *k = &keys.items[i];
        if (only >= 0 && k->account_id != only)
            continue;
        char created[TIMEUTIL_ISO_LEN];
        timeutil_iso8601(k->created_ms, created);
        if (ctx->json)
            ok = json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, s:s}", "accessKey", k->access_key,
                                                      "account", k->account_name, "bucket", k->bucket, "enabled",
                                                      k->enabled, "createdAt", created)) == 0;
        else
            ok = admin_table_add(&t, (const char *const[]){k->access_key, k->account_name, k->bucket,
                                                           k->enabled ? "yes" : "no", created});
    }
    store_key_list_free(&keys);
    return admin_list_output(ctx, arr, &t, ok);
}

static int admin_key_set_enabled(admin_ctx_t *ctx, int argc, char **argv, bool enabled)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, argv[0], 1, "an AccessKey");
    if (r < 0)
        r = admin_open(ctx);
    if (r >= 0)
        return r;
    const char *ak = ctx->pos[0];
    int rc = ctx->store->ops->key_set_enabled(ctx->store, ak, enabled);
    if (rc == STORE_NOT_FOUND)
        return admin_fail("no AccessKey '%s'", ak);
    if (rc != STORE_OK)
        return admin_store_fail(rc, enabled ? "enabling the key" : "disabling the key");
    if (ctx->json)
        return admin_print_json(json_pack("{s:s, s:b}", "accessKey", ak, "enabled", enabled));
    printf("AccessKey %s %s\n", ak, enabled ? "enabled" : "disabled");
    return 0;
}

static int admin_key_disable(admin_ctx_t *ctx, int argc, char **argv)
{
    return admin_key_set_enabled(ctx, argc, argv, false);
}

static int admin_key_enable(admin_ctx_t *ctx, int argc, char **argv)
{
    return admin_key_set_enabled(ctx, argc, argv, true);
}

/* ---- domain ---- */

static int admin_domain_add_opt(void *state, int id, const char *arg)
{
    bool *make_default = state;
    if (id != 'd')
        return admin_usage_error("unexpected option");
    *make_default = true;
    return -1;
}

static int admin_domain_add(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"default", no_argument, NULL, 'd'}, ADMIN_COMMON_OPTIONS};
    bool make_default = false;
    char name[ADMIN_DOMAIN_MAX + 1];
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_domain_add_opt, &make_default);
    if (r < 0)
        r = admin_expect_args(ctx, "add", 1, "a domain name");
    if (r < 0 && !admin_domain_normalize(ctx->pos[0], name, sizeof(name)))
        r = admin_usage_error("'%s' is not a domain (host[:port], optionally with http:// or https://)",
                              ctx->pos[0]);
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    store_t *s = ctx->store;
    int rc = s->ops->domain_add(s, account_id, name, make_default);
    if (rc == STORE_EXISTS)
        return admin_fail("domain '%s' already exists in this account", name);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "adding the domain");
    store_domain_t d = {0};
    rc = s->ops->domain_get(s, account_id, name, &d);
    bool is_default = rc == STORE_OK && d.is_default;
    free(d.name);
    if (ctx->json)
        return admin_print_json(json_pack("{s:s, s:b}", "name", name, "default", is_default));
    printf("domain %s added%s\n", name, is_default ? " (default)" : "");
    return 0;
}

static int admin_domain_list(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "list", 0, "");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    store_domain_list_t l;
    int rc = ctx->store->ops->domain_list(ctx->store, account_id, &l);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing domains");
    json_t *arr = ctx->json ? json_array() : NULL;
    admin_table_t t = {.ncols = 2};
    bool ok = ctx->json ? arr != NULL : admin_table_add(&t, (const char *const[]){"DOMAIN", "DEFAULT"});
    for (size_t i = 0; ok && i < l.count; i++) {
        if (ctx->json)
            ok = json_array_append_new(arr, json_pack("{s:s, s:b}", "name", l.items[i].name, "default",
                                                      l.items[i].is_default)) == 0;
        else
            ok = admin_table_add(&t, (const char *const[]){l.items[i].name, l.items[i].is_default ? "yes" : ""});
    }
    store_domain_list_free(&l);
    return admin_list_output(ctx, arr, &t, ok);
}

/* ---- resources: shared parts ---- */

/* The name of the getUploadToken parameter that refers to a resource, which
 * is what `add` prints. */
static const char *admin_resource_param(int kind)
{
    switch (kind) {
    case STORE_WORKFLOW: return "workflowId";
    case STORE_WATERMARK: return "waterMarkName";
    case STORE_TEMPLATE: return "transCodeCombineName";
    default: return "subtitleId";
    }
}

/* Whether the account already has a resource of this kind and name (the
 * copy of a file must not start when the add would fail anyway). */
static int admin_resource_name_free(admin_ctx_t *ctx, int64_t account_id, const char *name)
{
    store_resource_list_t l;
    int rc = ctx->store->ops->resource_list(ctx->store, account_id, ctx->kind, &l);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing resources");
    bool taken = false;
    for (size_t i = 0; i < l.count && !taken; i++)
        taken = !strcmp(l.items[i].name, name);
    store_resource_list_free(&l);
    if (taken)
        return admin_fail("%s '%s' already exists in this account", store_resource_kind_name(ctx->kind), name);
    return -1;
}

/* Stores the resource and prints its reference.  Takes spec_text, the
 * canonical JSON from process/spec (NULL: out of memory). */
static int admin_resource_store(admin_ctx_t *ctx, int64_t account_id, const char *name, char *spec_text)
{
    if (!spec_text)
        return admin_fail("out of memory");
    store_resource_t res;
    int rc = ctx->store->ops->resource_add(ctx->store, account_id, ctx->kind, name, spec_text, &res);
    free(spec_text);
    if (rc == STORE_EXISTS)
        return admin_fail("%s '%s' already exists in this account", store_resource_kind_name(ctx->kind), name);
    if (rc != STORE_OK) {
        char what[96];
        snprintf(what, sizeof(what), "adding the %s", store_resource_kind_name(ctx->kind));
        return admin_store_fail(rc, what);
    }
    const char *param = admin_resource_param(ctx->kind);
    int r = 0;
    if (ctx->json)
        r = admin_print_json(json_pack("{s:s}", param, res.id));
    else
        admin_print_pairs((const char *const[]){param, res.id}, 1);
    store_resource_free(&res);
    return r;
}

/* Opens a file the operator named: it must be a readable regular file. */
static int admin_open_source(const char *path, int *fd)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (*fd < 0)
        return admin_fail("cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return admin_fail("%s is not a regular file", path);
    }
    return -1;
}

/* The extension of a path's last component, lowercased, when it is 1..8
 * letters and digits; "" otherwise. */
static void admin_extension(const char *path, char out[10])
{
    out[0] = '\0';
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return;
    size_t n = strlen(dot + 1);
    if (n == 0 || n > 8)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)dot[1 + i]))
            return;
        out[i] = (char)tolower((unsigned char)dot[1 + i]);
    }
    out[n] = '\0';
}

static bool admin_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/*
 * Copies src_fd into a new private temporary file in `dir`, synced, and
 * returns its path in tmp.  The caller renames it into place once the row
 * is committed, or unlinks it.
 */
static int admin_copy_to_temp(int src_fd, const char *src_name, const char *dir, char *tmp, size_t tmplen)
{
    int n = snprintf(tmp, tmplen, "%s/.incoming-XXXXXX", dir);
    if (n < 0 || (size_t)n >= tmplen)
        return admin_fail("path too long");
    int out = mkstemp(tmp); /* mode 0600 */
    if (out < 0)
        return admin_fail("cannot create a file in %s: %s", dir, strerror(errno));
    char buf[65536];
    bool ok = true;
    for (;;) {
        ssize_t got = read(src_fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            admin_fail("cannot read %s: %s", src_name, strerror(errno));
            ok = false;
            break;
        }
        if (got == 0)
            break;
        if (!admin_write_all(out, buf, (size_t)got)) {
            admin_fail("cannot write %s: %s", tmp, strerror(errno));
            ok = false;
            break;
        }
    }
    if (ok && fsync(out) != 0) {
        admin_fail("cannot sync %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (close(out) != 0 && ok) {
        admin_fail("cannot write %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        return 1;
    }
    return -1;
}

/* Where a resource's file goes: DIR/resources/<account>/<subdir>/<file>. */
typedef struct admin_file_paths {
    char rel[SPEC_PATH_MAX];              /* relative to DIR: what the spec names */
    char dir[ADMIN_PATH_MAX];             /* the directory it goes into */
    char final_path[2 * ADMIN_PATH_MAX];  /* DIR/rel */
} admin_file_paths_t;

static int admin_file_paths(const admin_ctx_t *ctx, int64_t account_id, const char *subdir, const char *file_name,
                            admin_file_paths_t *p)
{
    int n1 = snprintf(p->rel, sizeof(p->rel), "resources/%lld/%s/%s", (long long)account_id, subdir, file_name);
    int n2 = snprintf(p->dir, sizeof(p->dir), "%s/resources/%lld/%s", ctx->data_dir, (long long)account_id, subdir);
    int n3 = snprintf(p->final_path, sizeof(p->final_path), "%s/%s", ctx->data_dir, p->rel);
    if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n1 >= sizeof(p->rel) || (size_t)n2 >= sizeof(p->dir) ||
        (size_t)n3 >= sizeof(p->final_path))
        return admin_fail("path too long");
    return -1;
}

/* Renames the copied file into place and makes the rename durable. */
static int admin_place_file(admin_ctx_t *ctx, const char *tmp, const admin_file_paths_t *p)
{
    if (rename(tmp, p->final_path) != 0) {
        int e = errno;
        unlink(tmp);
        return admin_fail("stored the %s but could not place its file at %s: %s",
                          store_resource_kind_name(ctx->kind), p->final_path, strerror(e));
    }
    int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* Copies a resource file to p->final_path and stores the resource, whose
 * spec_text names p->rel.  Takes spec_text. */
static int admin_add_with_file(admin_ctx_t *ctx, int64_t account_id, const char *name, const char *source,
                               const admin_file_paths_t *p, char *spec_text)
{
    char tmp[ADMIN_PATH_MAX];
    int fd = -1;
    int r = admin_open_source(source, &fd);
    if (r < 0)
        r = admin_resource_name_free(ctx, account_id, name);
    if (r < 0 && !admin_mkdirs(p->dir))
        r = admin_fail("cannot create %s: %s", p->dir, strerror(errno));
    if (r < 0)
        r = admin_copy_to_temp(fd, source, p->dir, tmp, sizeof(tmp));
    if (fd >= 0)
        close(fd);
    if (r >= 0) {
        free(spec_text);
        return r;
    }
    /* The row goes in first: were the rename first, losing a race for the
     * name to another admin would overwrite that one's file. */
    r = admin_resource_store(ctx, account_id, name, spec_text);
    if (r != 0) {
        unlink(tmp);
        return r;
    }
    return admin_place_file(ctx, tmp, p);
}

/* ---- resources: list ---- */

#define ADMIN_SUMMARY_COLS 4
#define ADMIN_SUMMARY_CELL (SPEC_PATH_MAX + 64)

/* A stored spec, read through process/spec: the list's readable cells and
 * the canonical JSON (which shows old template shapes in the new one). */
typedef struct admin_summary {
    char cells[ADMIN_SUMMARY_COLS][ADMIN_SUMMARY_CELL];
    char *canonical; /* malloc'd; NULL when the stored spec does not parse */
} admin_summary_t;

static void admin_summarise_workflow(const char *text, admin_summary_t *s, spec_error_t *err)
{
    spec_workflow_t w;
    if (!spec_workflow_parse(text, &w, err))
        return;
    spec_workflow_format(&w, s->cells[0], sizeof(s->cells[0]));
    s->canonical = spec_workflow_to_json(&w);
}

static void admin_summarise_watermark(const char *text, admin_summary_t *s, spec_error_t *err)
{
    spec_watermark_t w;
    if (!spec_watermark_parse(text, &w, err))
        return;
    snprintf(s->cells[0], sizeof(s->cells[0]), "%s", spec_position_name(w.position));
    snprintf(s->cells[1], sizeof(s->cells[1]), "%d,%d", w.offset_x, w.offset_y);
    snprintf(s->cells[2], sizeof(s->cells[2]), "%g", w.opacity);
    snprintf(s->cells[3], sizeof(s->cells[3]), "%s", w.image);
    s->canonical = spec_watermark_to_json(&w);
}

/* Renditions as --rendition would take them, comma-separated. */
static void admin_summarise_template(const char *text, admin_summary_t *s, spec_error_t *err)
{
    spec_template_t t;
    if (!spec_template_parse(text, &t, err))
        return;
    snprintf(s->cells[0], sizeof(s->cells[0]), "%s", spec_container_name(t.container));
    snprintf(s->cells[1], sizeof(s->cells[1]), "%s", spec_video_codec_name(t.video_codec));
    if (t.audio_bitrate)
        snprintf(s->cells[2], sizeof(s->cells[2]), "%s@%d", spec_audio_codec_name(t.audio_codec), t.audio_bitrate);
    else
        snprintf(s->cells[2], sizeof(s->cells[2]), "%s", spec_audio_codec_name(t.audio_codec));
    size_t used = 0;
    for (size_t i = 0; i < t.rendition_count; i++) {
        char one[48];
        spec_rendition_format(&t.renditions[i], one, sizeof(one));
        int n = snprintf(s->cells[3] + used, sizeof(s->cells[3]) - used, "%s%s", i ? "," : "", one);
        used += n > 0 ? (size_t)n : 0;
    }
    s->canonical = spec_template_to_json(&t);
}

static void admin_summarise_subtitle(const char *text, admin_summary_t *s, spec_error_t *err)
{
    spec_subtitle_t sub;
    if (!spec_subtitle_parse(text, &sub, err))
        return;
    snprintf(s->cells[0], sizeof(s->cells[0]), "%s", sub.language);
    snprintf(s->cells[1], sizeof(s->cells[1]), "%s", spec_subtitle_format_name(sub.format));
    snprintf(s->cells[2], sizeof(s->cells[2]), "%s", spec_subtitle_mode_name(sub.mode));
    snprintf(s->cells[3], sizeof(s->cells[3]), "%s", sub.file);
    s->canonical = spec_subtitle_to_json(&sub);
}

/* What `list` shows of each kind.  Watermarks and templates are known by
 * name, which is their id. */
static const struct admin_list_view {
    int kind;
    bool show_id;
    size_t ncols; /* summary columns */
    const char *headers[ADMIN_SUMMARY_COLS];
    void (*summarise)(const char *text, admin_summary_t *s, spec_error_t *err);
} admin_list_views[] = {
    {STORE_WORKFLOW, true, 1, {"STEPS"}, admin_summarise_workflow},
    {STORE_WATERMARK, false, 4, {"POSITION", "OFFSET", "OPACITY", "IMAGE"}, admin_summarise_watermark},
    {STORE_TEMPLATE, false, 4, {"CONTAINER", "VIDEO", "AUDIO", "RENDITIONS"}, admin_summarise_template},
    {STORE_SUBTITLE, true, 4, {"LANGUAGE", "FORMAT", "MODE", "FILE"}, admin_summarise_subtitle},
};

static const struct admin_list_view *admin_list_view(int kind)
{
    for (size_t i = 0; i < sizeof(admin_list_views) / sizeof(admin_list_views[0]); i++)
        if (admin_list_views[i].kind == kind)
            return &admin_list_views[i];
    return &admin_list_views[0];
}

/* A spec that no longer parses (written by hand, or by a newer vodup) is
 * listed with the reason rather than hidden. */
static void admin_summarise(const struct admin_list_view *v, const char *text, admin_summary_t *s)
{
    spec_error_t err = {{0}};
    memset(s, 0, sizeof(*s));
    v->summarise(text, s, &err);
    if (err.message[0]) {
        memset(s->cells, 0, sizeof(s->cells));
        snprintf(s->cells[0], sizeof(s->cells[0]), "invalid spec: %s", err.message);
    }
}

/* [ID] NAME CREATED and the view's columns, in one row array. */
static size_t admin_list_row(const struct admin_list_view *v, const char *const *fixed, const admin_summary_t *s,
                             const char **row)
{
    size_t n = 0;
    for (size_t i = v->show_id ? 0 : 1; i < 3; i++)
        row[n++] = fixed[i];
    for (size_t i = 0; i < v->ncols; i++)
        row[n++] = s ? s->cells[i] : v->headers[i];
    return n;
}

static bool admin_list_json(json_t *arr, const store_resource_t *res, const char *created, const admin_summary_t *s)
{
    json_t *spec = json_loads(s->canonical ? s->canonical : res->spec, 0, NULL);
    return json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s}", "id", res->id, "name", res->name, "spec",
                                                spec ? spec : json_object(), "createdAt", created)) == 0;
}

static bool admin_list_add(admin_ctx_t *ctx, const struct admin_list_view *v, const store_resource_t *res,
                           json_t *arr, admin_table_t *t)
{
    char created[TIMEUTIL_ISO_LEN];
    admin_summary_t *s = malloc(sizeof(*s)); /* large: not on the stack */
    if (!s)
        return false;
    timeutil_iso8601(res->created_ms, created);
    admin_summarise(v, res->spec, s);
    bool ok;
    if (ctx->json) {
        ok = admin_list_json(arr, res, created, s);
    } else {
        const char *row[3 + ADMIN_SUMMARY_COLS];
        admin_list_row(v, (const char *const[]){res->id, res->name, created}, s, row);
        ok = admin_table_add(t, row);
    }
    free(s->canonical);
    free(s);
    return ok;
}

static int admin_resource_list(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "list", 0, "");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    store_resource_list_t l;
    int rc = ctx->store->ops->resource_list(ctx->store, account_id, ctx->kind, &l);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing resources");
    const struct admin_list_view *v = admin_list_view(ctx->kind);
    const char *header[3 + ADMIN_SUMMARY_COLS];
    json_t *arr = ctx->json ? json_array() : NULL;
    admin_table_t t = {.ncols = admin_list_row(v, (const char *const[]){"ID", "NAME", "CREATED"}, NULL, header)};
    bool ok = ctx->json ? arr != NULL : admin_table_add(&t, header);
    for (size_t i = 0; ok && i < l.count; i++)
        ok = admin_list_add(ctx, v, &l.items[i], arr, &t);
    store_resource_list_free(&l);
    return admin_list_output(ctx, arr, &t, ok);
}

/* Validates NAME, the one positional argument of every `add`. */
static int admin_add_name(admin_ctx_t *ctx)
{
    int r = admin_expect_args(ctx, "add", 1, "a NAME");
    if (r < 0 && !spec_name_valid(ctx->pos[0]))
        r = admin_usage_error("%s name '%s' must be 1..%d of A-Z a-z 0-9 . _ - (not starting with '.')",
                              store_resource_kind_name(ctx->kind), ctx->pos[0], SPEC_NAME_MAX);
    return r;
}

/* ---- workflow ---- */

static int admin_workflow_opt(void *state, int id, const char *arg)
{
    spec_workflow_t *w = state;
    spec_error_t err;
    if (id != 's')
        return admin_usage_error("unexpected option");
    if (w->step_count == SPEC_WORKFLOW_STEPS_MAX)
        return admin_usage_error("a workflow has at most %d steps", SPEC_WORKFLOW_STEPS_MAX);
    if (!spec_step_parse_text(arg, &w->steps[w->step_count], &err))
        return admin_usage_error("%s", err.message);
    w->step_count++;
    return -1;
}

/* The store kind a step refers to. */
static int admin_step_ref_kind(enum spec_step_kind k)
{
    return k == SPEC_STEP_TRANSCODE ? STORE_TEMPLATE : k == SPEC_STEP_WATERMARK ? STORE_WATERMARK : STORE_SUBTITLE;
}

/* A workflow that names a missing resource would only fail at processing
 * time, far from this mistake. */
static int admin_workflow_refs_exist(admin_ctx_t *ctx, int64_t account_id, const spec_workflow_t *w)
{
    for (size_t i = 0; i < w->step_count; i++) {
        const spec_step_t *st = &w->steps[i];
        if (!spec_step_kind_takes_ref(st->kind))
            continue;
        int ref_kind = admin_step_ref_kind(st->kind);
        store_resource_t res;
        int rc = ctx->store->ops->resource_get(ctx->store, account_id, ref_kind, st->ref, &res);
        store_resource_free(&res);
        if (rc == STORE_NOT_FOUND)
            return admin_fail("step '%s': no %s '%s' in this account", spec_step_kind_name(st->kind),
                              store_resource_kind_name(ref_kind), st->ref);
        if (rc != STORE_OK)
            return admin_store_fail(rc, "checking the workflow's steps");
    }
    return -1;
}

static int admin_workflow_add(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"step", required_argument, NULL, 's'}, ADMIN_COMMON_OPTIONS};
    spec_workflow_t w = {.step_count = 0};
    spec_error_t err;
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_workflow_opt, &w);
    if (r < 0)
        r = admin_add_name(ctx);
    if (r < 0 && w.step_count == 0)
        r = admin_usage_error("a workflow needs at least one --step");
    if (r < 0 && !spec_workflow_check(&w, &err))
        r = admin_usage_error("%s", err.message);
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r < 0)
        r = admin_workflow_refs_exist(ctx, account_id, &w);
    if (r < 0)
        r = admin_resource_name_free(ctx, account_id, ctx->pos[0]);
    if (r >= 0)
        return r;
    return admin_resource_store(ctx, account_id, ctx->pos[0], spec_workflow_to_json(&w));
}

/* ---- watermark ---- */

typedef struct admin_watermark_opts {
    const char *source; /* --image, the operator's file */
    spec_watermark_t spec;
} admin_watermark_opts_t;

static int admin_watermark_opt(void *state, int id, const char *arg)
{
    admin_watermark_opts_t *o = state;
    long offset;
    switch (id) {
    case 'i':
        o->source = arg;
        return -1;
    case 'p':
        if (!spec_position_parse(arg, &o->spec.position))
            return admin_usage_error("--position must be top-left, top-right, bottom-left, bottom-right or center");
        return -1;
    case 'x':
    case 'y':
        if (!admin_parse_int(arg, 0, SPEC_OFFSET_MAX, &offset) || !spec_offset_valid(offset))
            return admin_usage_error("--offset-%c must be an integer 0..%d", id, SPEC_OFFSET_MAX);
        *(id == 'x' ? &o->spec.offset_x : &o->spec.offset_y) = (int)offset;
        return -1;
    case 'o': {
        char *end;
        errno = 0;
        double v = strtod(arg, &end);
        if (!*arg || *end || errno || !spec_opacity_valid(v))
            return admin_usage_error("--opacity must be a number 0..1");
        o->spec.opacity = v;
        return -1;
    }
    default:
        return admin_usage_error("unexpected option");
    }
}

static int admin_watermark_add(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"image", required_argument, NULL, 'i'},    {"position", required_argument, NULL, 'p'},
        {"offset-x", required_argument, NULL, 'x'}, {"offset-y", required_argument, NULL, 'y'},
        {"opacity", required_argument, NULL, 'o'},  ADMIN_COMMON_OPTIONS};
    admin_watermark_opts_t o = {.source = NULL};
    spec_watermark_init(&o.spec);
    admin_file_paths_t paths;
    spec_error_t err;
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_watermark_opt, &o);
    if (r < 0)
        r = admin_add_name(ctx);
    if (r < 0 && !o.source)
        r = admin_usage_error("'watermark add' needs --image FILE");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    char ext[10], file_name[SPEC_NAME_MAX + 12];
    admin_extension(o.source, ext);
    snprintf(file_name, sizeof(file_name), "%s%s%s", ctx->pos[0], ext[0] ? "." : "", ext);
    if ((r = admin_file_paths(ctx, account_id, "watermarks", file_name, &paths)) >= 0)
        return r;
    snprintf(o.spec.image, sizeof(o.spec.image), "%s", paths.rel);
    if (!spec_watermark_check(&o.spec, &err))
        return admin_fail("%s", err.message);
    return admin_add_with_file(ctx, account_id, ctx->pos[0], o.source, &paths, spec_watermark_to_json(&o.spec));
}

/* ---- template ---- */

typedef struct admin_template_opts {
    spec_template_t spec;      /* container, given codecs, --rendition list */
    bool video_given, audio_given;
    bool shorthand;            /* --width, --height or --video-bitrate given */
    spec_rendition_t one;      /* the shorthand's one rendition */
} admin_template_opts_t;

/* --width/--height/--video-bitrate: the one-rendition shorthand. */
static int admin_template_shorthand(admin_template_opts_t *o, int id, const char *arg)
{
    long v;
    o->shorthand = true;
    if (id == 'V') {
        if (!admin_parse_int(arg, 0, SPEC_VIDEO_BITRATE_MAX, &v) || !spec_video_bitrate_valid(v))
            return admin_usage_error("--video-bitrate must be an integer 0..%d (kbps)", SPEC_VIDEO_BITRATE_MAX);
        o->one.video_bitrate = (int)v;
        return -1;
    }
    if (!admin_parse_int(arg, 0, SPEC_DIMENSION_MAX, &v) || !spec_dimension_valid(v))
        return admin_usage_error("--%s must be 0 (the source's) or an integer %d..%d", id == 'W' ? "width" : "height",
                                 SPEC_DIMENSION_MIN, SPEC_DIMENSION_MAX);
    *(id == 'W' ? &o->one.width : &o->one.height) = (int)v;
    return -1;
}

static int admin_template_rendition(admin_template_opts_t *o, const char *arg)
{
    spec_error_t err;
    if (o->spec.rendition_count == SPEC_RENDITIONS_MAX)
        return admin_usage_error("a template has at most %d renditions", SPEC_RENDITIONS_MAX);
    if (!spec_rendition_parse_text(arg, &o->spec.renditions[o->spec.rendition_count], &err))
        return admin_usage_error("%s", err.message);
    o->spec.rendition_count++;
    return -1;
}

static int admin_template_opt(void *state, int id, const char *arg)
{
    admin_template_opts_t *o = state;
    long v;
    switch (id) {
    case 'c':
        if (!spec_container_parse(arg, &o->spec.container))
            return admin_usage_error("--container must be mp4, webm, mkv or hls");
        return -1;
    case 'v':
        o->video_given = true;
        if (!spec_video_codec_parse(arg, &o->spec.video_codec))
            return admin_usage_error("--video-codec must be h264, h265, vp9, av1 or copy");
        return -1;
    case 'a':
        o->audio_given = true;
        if (!spec_audio_codec_parse(arg, &o->spec.audio_codec))
            return admin_usage_error("--audio-codec must be aac, opus, mp3 or copy");
        return -1;
    case 'r':
        return admin_template_rendition(o, arg);
    case 'W':
    case 'H':
    case 'V':
        return admin_template_shorthand(o, id, arg);
    case 'A':
        if (!admin_parse_int(arg, 0, SPEC_AUDIO_BITRATE_MAX, &v) || !spec_audio_bitrate_valid(v))
            return admin_usage_error("--audio-bitrate must be an integer 0..%d (kbps)", SPEC_AUDIO_BITRATE_MAX);
        o->spec.audio_bitrate = (int)v;
        return -1;
    default:
        return admin_usage_error("unexpected option");
    }
}

/* Completes the template from the options (codec defaults follow the
 * container, whatever the order of the options) and checks it as a whole. */
static int admin_template_finish(admin_template_opts_t *o)
{
    spec_error_t err;
    if (o->shorthand && o->spec.rendition_count)
        return admin_usage_error("give the renditions with --rendition or with --width/--height/--video-bitrate, "
                                 "not both");
    if (!o->spec.rendition_count) /* the shorthand, or the source's size */
        o->spec.renditions[o->spec.rendition_count++] = o->one;
    if (!o->video_given)
        o->spec.video_codec = spec_container_default_video(o->spec.container);
    if (!o->audio_given)
        o->spec.audio_codec = spec_container_default_audio(o->spec.container);
    if (!spec_template_check(&o->spec, &err))
        return admin_usage_error("%s", err.message);
    return -1;
}

static int admin_template_add(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"container", required_argument, NULL, 'c'},     {"video-codec", required_argument, NULL, 'v'},
        {"audio-codec", required_argument, NULL, 'a'},   {"rendition", required_argument, NULL, 'r'},
        {"width", required_argument, NULL, 'W'},         {"height", required_argument, NULL, 'H'},
        {"video-bitrate", required_argument, NULL, 'V'}, {"audio-bitrate", required_argument, NULL, 'A'},
        ADMIN_COMMON_OPTIONS};
    admin_template_opts_t o = {.shorthand = false};
    spec_template_init(&o.spec, SPEC_CONTAINER_MP4);
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_template_opt, &o);
    if (r < 0)
        r = admin_add_name(ctx);
    if (r < 0)
        r = admin_template_finish(&o);
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    return admin_resource_store(ctx, account_id, ctx->pos[0], spec_template_to_json(&o.spec));
}

/* ---- subtitle ---- */

typedef struct admin_subtitle_opts {
    const char *source; /* --file, the operator's file */
    spec_subtitle_t spec;
} admin_subtitle_opts_t;

static int admin_subtitle_opt(void *state, int id, const char *arg)
{
    admin_subtitle_opts_t *o = state;
    switch (id) {
    case 'f':
        o->source = arg;
        return -1;
    case 'l':
        if (!spec_language_valid(arg))
            return admin_usage_error("--language '%s' is not a language code like en or pt-BR", arg);
        snprintf(o->spec.language, sizeof(o->spec.language), "%s", arg);
        return -1;
    case 'm':
        if (!spec_subtitle_mode_parse(arg, &o->spec.mode))
            return admin_usage_error("--mode must be burn or soft");
        return -1;
    default:
        return admin_usage_error("unexpected option");
    }
}

/* The format is the file's extension: ffmpeg picks its demuxer by it too. */
static int admin_subtitle_format(admin_subtitle_opts_t *o)
{
    char ext[10];
    if (!o->source)
        return admin_usage_error("'subtitle add' needs --file FILE");
    admin_extension(o->source, ext);
    if (!spec_subtitle_format_parse(ext, &o->spec.format))
        return admin_usage_error("subtitle file '%s' must end in .srt, .vtt or .ass", o->source);
    return -1;
}

static int admin_subtitle_add(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"file", required_argument, NULL, 'f'},
                                         {"language", required_argument, NULL, 'l'},
                                         {"mode", required_argument, NULL, 'm'},
                                         ADMIN_COMMON_OPTIONS};
    admin_subtitle_opts_t o = {.source = NULL};
    spec_subtitle_init(&o.spec);
    admin_file_paths_t paths;
    spec_error_t err;
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_subtitle_opt, &o);
    if (r < 0)
        r = admin_add_name(ctx);
    if (r < 0)
        r = admin_subtitle_format(&o);
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    char file_name[SPEC_NAME_MAX + 12];
    snprintf(file_name, sizeof(file_name), "%s.%s", ctx->pos[0], spec_subtitle_format_name(o.spec.format));
    if ((r = admin_file_paths(ctx, account_id, "subtitles", file_name, &paths)) >= 0)
        return r;
    snprintf(o.spec.file, sizeof(o.spec.file), "%s", paths.rel);
    if (!spec_subtitle_check(&o.spec, &err))
        return admin_fail("%s", err.message);
    return admin_add_with_file(ctx, account_id, ctx->pos[0], o.source, &paths, spec_subtitle_to_json(&o.spec));
}

/* ---- removals ---- */

static int admin_key_delete(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "delete", 1, "an AccessKey");
    if (r < 0)
        r = admin_open(ctx);
    if (r >= 0)
        return r;
    int rc = ctx->store->ops->key_delete(ctx->store, ctx->pos[0]);
    if (rc == STORE_NOT_FOUND)
        return admin_fail("no AccessKey '%s'", ctx->pos[0]);
    if (rc == STORE_CONFLICT)
        return admin_fail("%s is its account's last key; disable it instead ('key disable')", ctx->pos[0]);
    return rc == STORE_OK ? 0 : admin_store_fail(rc, "deleting the key");
}

static int admin_domain_remove(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "remove", 1, "a domain");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    int rc = ctx->store->ops->domain_remove(ctx->store, account_id, ctx->pos[0]);
    if (rc == STORE_NOT_FOUND)
        return admin_fail("the account has no domain '%s'", ctx->pos[0]);
    return rc == STORE_OK ? 0 : admin_store_fail(rc, "removing the domain");
}

/* workflow, watermark, template and subtitle remove ID|NAME.  A resource's
 * file stays under DIR/resources/: tasks already queued name it. */
static int admin_resource_remove(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "remove", 1, ctx->kind == STORE_WORKFLOW || ctx->kind == STORE_SUBTITLE
                                                     ? "an id" : "a name");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    int rc = ctx->store->ops->resource_remove(ctx->store, account_id, ctx->kind, ctx->pos[0]);
    if (rc == STORE_NOT_FOUND)
        return admin_fail("the account has no %s '%s'", ctx->object, ctx->pos[0]);
    return rc == STORE_OK ? 0 : admin_store_fail(rc, "removing it");
}

/* ---- dispatch ---- */


static const admin_verb_t admin_key_verbs[] = {
    {"create", admin_key_create}, {"list", admin_key_list}, {"disable", admin_key_disable},
    {"enable", admin_key_enable}, {"delete", admin_key_delete}, {NULL, NULL}};
static const admin_verb_t admin_domain_verbs[] = {
    {"add", admin_domain_add}, {"list", admin_domain_list}, {"remove", admin_domain_remove}, {NULL, NULL}};
static const admin_verb_t admin_workflow_verbs[] = {
    {"add", admin_workflow_add}, {"list", admin_resource_list}, {"remove", admin_resource_remove}, {NULL, NULL}};
static const admin_verb_t admin_watermark_verbs[] = {
    {"add", admin_watermark_add}, {"list", admin_resource_list}, {"remove", admin_resource_remove}, {NULL, NULL}};
static const admin_verb_t admin_template_verbs[] = {
    {"add", admin_template_add}, {"list", admin_resource_list}, {"remove", admin_resource_remove}, {NULL, NULL}};
static const admin_verb_t admin_subtitle_verbs[] = {
    {"add", admin_subtitle_add}, {"list", admin_resource_list}, {"remove", admin_resource_remove}, {NULL, NULL}};

static const struct admin_object {
    const char *name;
    int kind; /* store kind for resources, -1 otherwise */
    const admin_verb_t *verbs;
    const char *verb_names;
} admin_objects[] = {
    {"key", -1, admin_key_verbs, "create, list, disable, enable, delete"},
    {"domain", -1, admin_domain_verbs, "add, list, remove"},
    {"workflow", STORE_WORKFLOW, admin_workflow_verbs, "add, list, remove"},
    {"watermark", STORE_WATERMARK, admin_watermark_verbs, "add, list, remove"},
    {"template", STORE_TEMPLATE, admin_template_verbs, "add, list, remove"},
    {"subtitle", STORE_SUBTITLE, admin_subtitle_verbs, "add, list, remove"},
    {"webhook", -1, admin_webhook_verbs, "add, list, remove, deliveries"},
    {"playback", -1, admin_playback_verbs, "show, set"},
    {"upload-link", -1, admin_link_verbs, "create"},
};

static bool admin_is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help");
}

int cli_admin(int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    admin_ctx_t ctx = {.object = NULL};
    /* Info lines (schema migration) are noise in a command's output. */
    log_set_level(LOG_WARN);

    optind = 0;
    opterr = 0;
    int c;
    /* '+': stop at the object; what follows belongs to it. */
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            admin_usage(stdout, NULL);
            return 0;
        case ADMIN_OPT_DATA:
            ctx.data_dir = optarg;
            break;
        case ADMIN_OPT_ACCOUNT:
            ctx.account = optarg;
            break;
        case ADMIN_OPT_JSON:
            ctx.json = true;
            break;
        case ':':
            return admin_usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return admin_usage_error("unknown option '-%c'", optopt);
            return admin_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return admin_usage_error("missing object (key, domain, workflow, watermark, template, subtitle, webhook or playback)");
    const char *object = argv[optind];
    if (admin_is_help(object)) {
        admin_usage(stdout, NULL);
        return 0;
    }
    const struct admin_object *obj = NULL;
    for (size_t i = 0; i < sizeof(admin_objects) / sizeof(admin_objects[0]) && !obj; i++)
        if (!strcmp(object, admin_objects[i].name))
            obj = &admin_objects[i];
    if (!obj)
        return admin_usage_error("unknown object '%s' (key, domain, workflow, watermark, template, subtitle, webhook or playback)",
                                 object);
    ctx.object = obj->name;
    ctx.kind = obj->kind;
    if (optind + 1 >= argc)
        return admin_usage_error("missing verb for '%s' (%s)", obj->name, obj->verb_names);
    const char *verb = argv[optind + 1];
    if (admin_is_help(verb)) {
        admin_usage(stdout, obj->name);
        return 0;
    }
    const admin_verb_t *v = obj->verbs;
    while (v->name && strcmp(v->name, verb) != 0)
        v++;
    if (!v->name)
        return admin_usage_error("unknown verb '%s' for '%s' (%s)", verb, obj->name, obj->verb_names);

    int status = v->run(&ctx, argc - optind - 1, argv + optind + 1);
    if (ctx.store)
        ctx.store->ops->close(ctx.store);
    if (fflush(stdout) != 0 && status == 0)
        status = admin_fail("cannot write the output: %s", strerror(errno));
    return status;
}
