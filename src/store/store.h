/*
 * store: vodup's metadata (accounts, keys, domains, processing resources,
 * categories, videos, processing tasks) behind a small vtable, so that PostgreSQL can replace
 * the embedded SQLite implementation without touching the handlers.
 *
 * Contract of every implementation:
 *  - All functions are thread-safe on one store_t.
 *  - Reads are synchronous and may run on HTTP poll threads: they must not
 *    wait on a commit or an fsync.
 *  - video_register is asynchronous: it queues the write and calls `done`
 *    later, from a store-owned thread, after the write is durable (group
 *    commit: many registrations share one transaction and one fsync).
 *  - Admin writes are synchronous and may be slow; they are not called on
 *    the request path.
 *  - Strings in result structs are owned by the struct; free them with the
 *    matching *_free function.  Every account-scoped call takes account_id and
 *    never returns another account's rows.
 *
 * Return codes: STORE_OK, STORE_NOT_FOUND, STORE_EXISTS (unique name taken),
 * STORE_CONFLICT (fileId already completed, overwrite 0; a task in the wrong
 * state), STORE_INVALID (bad
 * argument; `store_last_error` style messages are not kept: callers validate
 * first), STORE_UNAVAILABLE (database busy past its timeout, disk full,
 * closing) and STORE_ERROR (anything else; logged by the store).
 */
#ifndef VODUP_STORE_H
#define VODUP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_rc {
    STORE_OK = 0,
    STORE_NOT_FOUND,
    STORE_EXISTS,
    STORE_CONFLICT,
    STORE_INVALID,
    STORE_UNAVAILABLE,
    STORE_ERROR,
};

const char *store_rc_name(int rc);

typedef struct store store_t;

/* ---- accounts and keys ---- */

typedef struct store_key {
    char *access_key;
    char *secret_key;
    int64_t account_id;
    char *account_name;
    char *bucket;
    bool enabled;
    int64_t created_ms;
} store_key_t;

void store_key_free(store_key_t *k);

typedef struct store_key_list {
    store_key_t *items;
    size_t count;
} store_key_list_t;

void store_key_list_free(store_key_list_t *l);

/* ---- playback domains ---- */

typedef struct store_domain {
    char *name;
    bool is_default;
} store_domain_t;

typedef struct store_domain_list {
    store_domain_t *items;
    size_t count;
} store_domain_list_t;

void store_domain_list_free(store_domain_list_t *l);

/* ---- processing resources (run by the processing stage, later) ---- */

enum store_resource_kind {
    STORE_WORKFLOW = 0,
    STORE_WATERMARK,
    STORE_TEMPLATE,
    STORE_SUBTITLE,
};

const char *store_resource_kind_name(int kind); /* "workflow", "watermark", ... */

/*
 * One resource.  `id` is the public identifier: workflowId ("wf" + 30 hex)
 * and subtitleId ("sub" + 29 hex) are generated; watermarks and templates are
 * referred to by name, so their id equals their name.  `spec` is a JSON
 * object text holding the kind's processing fields, written and read only
 * through process/spec.h (which owns the rules; the store keeps the text):
 *   workflow:  {"steps":[{"kind":"probe"},{"kind":"transcode","template":"hd"},...]}
 *   watermark: {"image":"<path under data dir>","position":"top-right","offsetX":16,"offsetY":16,"opacity":1.0}
 *   template:  {"container":"hls","videoCodec":"h264","audioCodec":"aac","audioBitrate":128,
 *               "renditions":[{"width":1920,"height":1080,"videoBitrate":5000},...]}
 *   subtitle:  {"file":"<path under data dir>","format":"srt","language":"en","mode":"burn"}
 * Older rows keep older shapes, which are still read: a template of one size
 * {"container",...,"width":1280,"height":720,"videoBitrate":2500,"audioBitrate":128}
 * is one rendition, and a subtitle without "mode" burns.
 */
typedef struct store_resource {
    char *id;
    char *name;
    char *spec;
    int64_t created_ms;
} store_resource_t;

void store_resource_free(store_resource_t *r);

typedef struct store_resource_list {
    store_resource_t *items;
    size_t count;
} store_resource_list_t;

void store_resource_list_free(store_resource_list_t *l);

/* ---- videos ---- */

typedef struct store_category {
    char *parent_name;
    char *child_name;
} store_category_t;

typedef struct store_video {
    char *video_id;
    int64_t account_id;
    char *file_id;        /* NULL when none was given */
    char *name;           /* originFileName */
    char *file_key;
    char *bucket;
    char *domain;         /* "" when the account has no domain */
    int status;           /* enum video_status (common/video_status.h) */
    char *fail_reason;    /* NULL unless failed */
    int64_t size;         /* -1 until uploaded */
    char *md5;            /* NULL until uploaded */
    char *etag;
    char *mime_type;
    int64_t expected_size; /* -1 when not given */
    char *expected_md5;    /* NULL when not given */
    bool overwrite;
    char *workflow_id;     /* NULL when not set */
    char *cmd;
    char *watermark_name;
    char *template_name;
    char *subtitle_id;
    store_category_t *categories;
    size_t category_count;
    int64_t created_ms;
    int64_t uploaded_ms;   /* 0 until uploaded */
    double duration;       /* < 0 until probed */
    int width, height;     /* 0 until probed */
    char *codecs;          /* NULL until probed */
    char *object_id;       /* blob object holding the bytes; NULL until uploaded */
} store_video_t;

void store_video_free(store_video_t *v);

/*
 * What getUploadToken registers.  When file_id is set and (account, file_id)
 * already names a video, that video is returned instead of a new one (its
 * video_id, file_key, name stay); its processing settings, categories,
 * expected size/md5, domain and overwrite flag are replaced by these.  If
 * that video's upload has completed (status uploaded, processing or ready)
 * and overwrite is false, the result is STORE_CONFLICT.
 * Categories that do not exist are created under the account.
 */
typedef struct store_video_reg {
    int64_t account_id;
    const char *video_id;     /* fresh id, used only when a new video is made */
    const char *file_id;      /* NULL for none */
    const char *name;
    const char *file_key;     /* used only when a new video is made */
    const char *bucket;
    const char *domain;
    int64_t expected_size;    /* -1 for none */
    const char *expected_md5; /* NULL for none */
    bool overwrite;
    const char *workflow_id, *cmd, *watermark_name, *template_name, *subtitle_id; /* NULL for none */
    const store_category_t *categories;
    size_t category_count;
    int64_t now_ms;
} store_video_reg_t;

/* Result of a registration: rc plus, on STORE_OK, the video's ids (also on
 * STORE_CONFLICT: the fileId's video, whose upload completed).  `existed`
 * tells whether a fileId resume found an earlier registration. */
typedef struct store_video_reg_result {
    int rc;
    char video_id[33];
    char file_key[1024];
    bool existed;
} store_video_reg_result_t;

typedef void (*store_reg_done_fn)(void *arg, const store_video_reg_result_t *result);

typedef struct store_video_filter {
    const char *name_substring; /* NULL or "" for any */
    bool by_status;             /* false: any status */
    int status;                 /* with by_status: enum video_status */
    const char *category_name;  /* NULL for any: matches a parent or a child name */
    int64_t page_index;         /* from 1 */
    int64_t page_size;          /* 1..100 */
} store_video_filter_t;

typedef struct store_video_page {
    int64_t total;
    store_video_t *items;
    size_t count;
} store_video_page_t;

void store_video_page_free(store_video_page_t *p);

/* What a finished upload records (video_set_uploaded). */
typedef struct store_video_upload {
    int64_t account_id;
    const char *video_id;
    const char *object_id;  /* blob object now holding the bytes */
    int64_t size;
    const char *md5;        /* 32 lowercase hex */
    const char *etag;       /* WCS etag, 28 chars */
    const char *mime_type;
    bool overwrite;         /* the token's policy: may replace an earlier upload */
    int64_t now_ms;         /* uploadedAt */
    /* The processing task's frozen plan (a JSON object text, copied), or
     * NULL to queue no task.  task_id: NULL, or STORE_TASK_ID_LEN + 1 bytes
     * that receive the queued task's id ("" when none was queued). */
    const char *task_plan;
    const struct store_task_job *task_job; /* NULL: the task is not a persistent job */
    char *task_id;
} store_video_upload_t;

/* ---- processing tasks: a durable queue ----
 *
 * One task processes one upload of a video, following the plan frozen into
 * it when it was queued.  States: queued -> running -> succeeded | failed,
 * and queued or running -> canceled; a retryable failure sends a running
 * task back to queued with a back-off.  A video has at most one unfinished
 * (queued or running) task: queueing another cancels the earlier one.
 *
 * Workers lease the tasks they run: task_claim hands a task out for lease_ms
 * and task_heartbeat extends it.  A lease that runs out (a killed worker or
 * server) makes the task claimable again; there is no separate requeue
 * sweep, so nothing needs to run at startup for a crashed task to resume.
 * Each claim is one attempt; after STORE_TASK_MAX_ATTEMPTS the task fails
 * instead of being claimed again.  worker_id names one runner of one
 * process (host, pid and a counter, say): a worker must never mistake
 * another's lease for its own.
 *
 * Video status follows the task: claim sets `processing`, success `ready`,
 * a final failure `failed` with failReason = the task's error; a retry
 * pending keeps `processing`.  Times are Unix milliseconds from the caller,
 * so tests can inject them. */

#define STORE_TASK_ID_LEN 32 /* "tk" + 30 hex */
#define STORE_TASK_MAX_ATTEMPTS 3

enum store_task_state {
    STORE_TASK_QUEUED = 0,
    STORE_TASK_RUNNING,
    STORE_TASK_SUCCEEDED,
    STORE_TASK_FAILED,
    STORE_TASK_CANCELED,
};

/* "queued", "running", "succeeded", "failed", "canceled": getTaskInfo's
 * spelling. */
const char *store_task_state_name(int state);
/* The state called `name`, or -1. */
int store_task_state_parse(const char *name);
/* Succeeded, failed and canceled are final: nothing changes them again. */
bool store_task_state_finished(int state);

typedef struct store_task {
    char *task_id;
    int64_t account_id;
    char *video_id;
    int state;                /* enum store_task_state */
    char *plan;               /* the frozen plan, a JSON object text */
    int attempts;             /* claims so far, 0..STORE_TASK_MAX_ATTEMPTS */
    char *error;              /* the last attempt's error; NULL when none or succeeded */
    int progress;             /* 0..100; 100 once succeeded */
    char *lease_owner;        /* the worker running it; NULL unless running */
    int64_t lease_expires_ms; /* 0 unless running */
    int64_t next_attempt_ms;  /* a queued task is not claimed before this */
    int64_t created_ms;
    int64_t started_ms;       /* first claim; 0 until then */
    int64_t finished_ms;      /* 0 until final */
    /* A persistent job's (store_task_job_t); NULL for other tasks. */
    char *fops;
    char *notify_url;
    char *access_key;
} store_task_t;

/* What makes a task a persistent job (the vendor's fops, from persistentOps,
 * getUploadToken's cmd or POST /fops): its fops text, for the status query's
 * items; the URL told when it finishes, NULL for none; and the AccessKey
 * that submitted it, whose secret signs that notification.  When a job with
 * a notify_url finishes (succeeded, or failed for good), a PersistentNotify
 * event with one delivery to that URL is written in the same transaction,
 * like the webhooks' events (see "events and webhooks"). */
typedef struct store_task_job {
    const char *fops;       /* required */
    const char *notify_url; /* NULL: none */
    const char *access_key; /* required with notify_url */
} store_task_job_t;

void store_task_free(store_task_t *t);

/* ---- processing outputs ----
 *
 * A task that succeeds publishes its outputs with task_succeed, in the same
 * transaction that makes the video `ready`: before it, nothing of the task
 * is listed or served; after it, all of it is.  Two kinds of rows:
 *  - a listed output (store_output_t): what getVideoInfo's `outputs` and
 *    `coverUrl` show; one per rendition file, one per HLS template (its
 *    master playlist), one per soft subtitle, one for the cover;
 *  - a served file (store_output_file_t): every object the playback origin
 *    serves for the task, by key: each listed output's file and, for HLS,
 *    each variant playlist and segment too.
 * Keys are unique across the database, like fileKeys (they live under the
 * video's own directory).  The outputs of a video's earlier task stay
 * listed and served until a new task succeeds, which replaces them all. */

enum store_output_type {
    STORE_OUTPUT_MP4 = 0,
    STORE_OUTPUT_WEBM,
    STORE_OUTPUT_MKV,
    STORE_OUTPUT_HLS,
    STORE_OUTPUT_VTT,
    STORE_OUTPUT_COVER, /* cover.jpg: getVideoInfo's coverUrl, not in `outputs` */
    STORE_OUTPUT_JPG,   /* a frame a fops asked for (vframe), listed in `outputs` */
};

/* "mp4", "webm", "mkv", "hls", "vtt", "cover"; NULL when out of range. */
const char *store_output_type_name(int type);
/* The type called `name`, or -1. */
int store_output_type_parse(const char *name);

typedef struct store_output {
    int type;              /* enum store_output_type */
    char *template_name;   /* NULL for vtt and cover */
    char *key;             /* the object key (hls: the master playlist) */
    int width, height;     /* 0 when not a picture (vtt) */
    double duration;       /* seconds; 0 when not media (vtt, cover) */
    int64_t size;          /* bytes of the key's object (hls: of the master playlist) */
    int64_t bitrate;       /* bits per second; 0 when unknown */
    char *codecs;          /* "h264,aac"; NULL when not media */
    char *language;        /* vtt only, else NULL */
} store_output_t;

typedef struct store_output_list {
    store_output_t *items;
    size_t count;
} store_output_list_t;

void store_output_list_free(store_output_list_t *l);

typedef struct store_output_file {
    char *key;
    char *object_id;     /* the blob object holding its bytes */
    int64_t size;
    char *content_type;  /* "video/mp4", "application/vnd.apple.mpegurl", "video/mp2t", "image/jpeg", "text/vtt", ... */
    char *video_id;      /* filled by output_file_find */
    int64_t account_id;  /* the video's account; filled by output_file_find */
    int64_t created_ms;  /* when its task succeeded (Last-Modified); filled by output_file_find */
} store_output_file_t;

void store_output_file_free(store_output_file_t *f);

/* What a succeeding task publishes (task_succeed).  The probe fields
 * replace the video's (duration, width, height, codecs); width and height
 * are the display size.  Arrays are read, not kept. */
typedef struct store_task_result {
    double duration;
    int width, height;
    const char *codecs;              /* NULL when none */
    const store_output_t *outputs;
    size_t output_count;
    const store_output_file_t *files;
    size_t file_count;
    /* false: the result replaces all of the video's earlier outputs and
     * files.  true: it joins them, replacing only the earlier files and
     * listed outputs whose keys it has again (a persistent job of POST
     * /fops, which adds outputs to a video as the vendor's does). */
    bool adds;
} store_task_result_t;

/* Object ids that a call made unused, for the caller to remove from the
 * blob store (the sweep removes them anyway if the caller cannot). */
typedef struct store_id_list {
    char **items;
    size_t count;
} store_id_list_t;

void store_id_list_free(store_id_list_t *l);

/* ---- tus uploads ----
 *
 * The state of a tus upload (upload/tus.c).  Its bytes are one blob block
 * named by the upload id; the row says how many of them are durable
 * (`offset`: only bytes the upload path fdatasynced), the declared length,
 * the metadata and, for a final concatenation, its parts.  A row never
 * authorises anything: the upload id the client holds is signed, and the
 * token of each request decides who may touch it.
 */
#define STORE_TUS_ID_LEN 32 /* the blob block id: 32 lowercase hex */

enum store_tus_kind {
    STORE_TUS_SINGLE = 0, /* an ordinary upload: published when complete */
    STORE_TUS_PARTIAL,    /* Upload-Concat: partial, waits for a final upload */
    STORE_TUS_FINAL,      /* Upload-Concat: final, the join of partials */
};

enum store_tus_state {
    STORE_TUS_OPEN = 0, /* taking bytes (or complete and not yet published) */
    STORE_TUS_DONE,     /* published, or (a partial) joined into a final upload */
};

typedef struct store_tus {
    char upload_id[STORE_TUS_ID_LEN + 1];
    int64_t account_id;
    char *file_key;
    int kind;        /* enum store_tus_kind */
    int state;       /* enum store_tus_state */
    int64_t length;  /* Upload-Length; -1 while deferred */
    int64_t offset;  /* durable bytes */
    char *metadata;  /* Upload-Metadata as sent; NULL: none */
    char *parts;     /* a final upload's Upload-Concat value; NULL otherwise */
    int64_t created_ms;
    int64_t updated_ms; /* the last write: the upload expires block-max-age after it */
} store_tus_t;

void store_tus_free(store_tus_t *u);

/* What a tus write changes: the durable offset, the length (once set), the
 * state, and the time of the write. */
typedef struct store_tus_progress {
    int64_t offset;
    int64_t length;
    int state;
    int64_t now_ms;
} store_tus_progress_t;

/* ---- upload links ----
 *
 * An upload link (docs/upload-links.md) lets whoever holds its id register
 * videos in an account, `uses` of them at most, until it expires.  Each
 * video it registered is remembered by the fileId it was registered with
 * (link_claim), so that the same file chosen again counts once and the
 * page may read only its own videos.
 */
#define STORE_LINK_ID_LEN 35 /* "ul_" and 32 lowercase hex */

typedef struct store_link {
    char link_id[STORE_LINK_ID_LEN + 1];
    int64_t account_id;
    char *access_key;    /* whose secret signs the tokens the link hands out */
    int64_t expires_ms;
    int64_t max_size;    /* bytes per file; 0: the server's max-upload-size */
    int64_t uses;        /* videos it may register */
    int64_t used;        /* videos it registered */
    char *template_name; /* NULL: none */
    char *workflow_id;   /* NULL: none */
    int64_t created_ms;
} store_link_t;

void store_link_free(store_link_t *l);

/* ---- playback access ----
 *
 * An account's playback is public (any URL of a published object plays) or
 * signed (only URLs signed with the account's playback key, auth/play_sign.h,
 * until their expiry).  The key is drawn when the account first turns
 * signed and kept across switches, unless rotated. */

enum store_playback_access { STORE_PLAYBACK_PUBLIC = 0, STORE_PLAYBACK_SIGNED };

#define STORE_PLAYBACK_KEY_LEN 32

typedef struct store_playback {
    int access;                            /* enum store_playback_access */
    bool has_key;
    unsigned char key[STORE_PLAYBACK_KEY_LEN];
} store_playback_t;

/* ---- events and webhooks ----
 *
 * An account's webhooks are URLs that hear about its videos.  An event is
 * written in the same transaction as the state change it reports, with one
 * delivery per webhook of the account that subscribes to its type at that
 * moment (a webhook added later does not get older events): a crash can
 * never lose an event, and an event no webhook wants is not written at all.
 * Dispatchers claim due deliveries with a lease (several nodes may send;
 * a delivery whose lease ran out is claimed again: at-least-once), send
 * them and record each attempt: delivered, another attempt at a given time,
 * or given up.  Reported by:
 *   FileUploadComplete   video_set_uploaded
 *   ProcessingComplete   task_succeed
 *   ProcessingFailed     task_fail when final, and a task whose last
 *                        attempt's worker was lost (task_claim)
 *   VideoDeleted         video_delete
 * An event's data (the video as getVideoInfo shows it) is given by the
 * caller when the state change removes it (video_delete), else frozen by
 * the first dispatcher that sends it (delivery_set_data). */

enum store_event_type {
    STORE_EVENT_UPLOAD_COMPLETE = 0, /* "FileUploadComplete" */
    STORE_EVENT_PROCESSING_COMPLETE, /* "ProcessingComplete" */
    STORE_EVENT_PROCESSING_FAILED,   /* "ProcessingFailed" */
    STORE_EVENT_VIDEO_DELETED,       /* "VideoDeleted" */
    STORE_EVENT_TYPE_COUNT,          /* the types a webhook may subscribe to */
    /* A persistent job's notification: not a webhook's; its one delivery
     * goes to the job's notify_url. */
    STORE_EVENT_PERSISTENT_NOTIFY = STORE_EVENT_TYPE_COUNT, /* "PersistentNotify" */
    STORE_EVENT_KIND_COUNT
};
#define STORE_EVENT_ALL ((1u << STORE_EVENT_TYPE_COUNT) - 1u)

/* The event type's wire name; NULL when out of range. */
const char *store_event_type_name(int type);
/* The type called `name` (exact, case-sensitive), or -1. */
int store_event_type_parse(const char *name);

#define STORE_WEBHOOK_ID_LEN 32 /* "wh" + 30 hex */
#define STORE_EVENT_ID_LEN 32   /* "ev" + 30 hex */

typedef struct store_webhook {
    char *webhook_id;
    char *url;
    unsigned events; /* bit (1 << enum store_event_type) per subscribed type */
    char *secret;    /* signs every delivery (X-Vodup-Signature) */
    int64_t created_ms;
} store_webhook_t;

typedef struct store_webhook_list {
    store_webhook_t *items;
    size_t count;
} store_webhook_list_t;

void store_webhook_free(store_webhook_t *w);
void store_webhook_list_free(store_webhook_list_t *l);

enum store_delivery_state { STORE_DELIVERY_PENDING = 0, STORE_DELIVERY_DELIVERED, STORE_DELIVERY_FAILED };

/* "pending", "delivered", "failed"; "unknown" when out of range. */
const char *store_delivery_state_name(int state);

typedef struct store_delivery {
    int64_t delivery_id;
    char *event_id;
    int event_type;      /* enum store_event_type */
    int64_t account_id;
    char *video_id;
    int64_t event_ms;    /* when the state change happened */
    char *data;          /* JSON object text; NULL until frozen */
    char *webhook_id;    /* NULL for a persistent job's notification */
    char *url;
    char *secret;        /* the webhook's; a notification's: its AccessKey's SecretKey */
    char *task_id;       /* a notification's job; NULL for a webhook's */
    char *access_key;    /* a notification's AccessKey; NULL for a webhook's */
    int state;           /* enum store_delivery_state */
    int attempts;        /* made so far (a claim does not count one) */
    int64_t next_attempt_ms;
    int last_status;     /* HTTP status of the last attempt; 0: none or no answer */
    char *last_error;    /* NULL when none */
    int64_t last_attempt_ms; /* 0 until the first attempt */
} store_delivery_t;

typedef struct store_delivery_list {
    store_delivery_t *items;
    size_t count;
} store_delivery_list_t;

void store_delivery_free(store_delivery_t *d);
void store_delivery_list_free(store_delivery_list_t *l);

/* One attempt's outcome (delivery_record). */
typedef struct store_delivery_attempt {
    bool delivered;          /* a 2xx answer */
    int status;              /* HTTP status; 0: no answer */
    const char *error;       /* NULL when delivered */
    int64_t next_attempt_ms; /* not delivered: when to try again; 0: give up */
} store_delivery_attempt_t;

/* ---- the vtable ---- */

struct store_ops {
    void (*close)(store_t *s);

    /* Creates a key.  account_name: when an account of that name exists the
     * key joins it, else a new account (with its own bucket) is created;
     * NULL makes a new account with a generated name. */
    int (*key_create)(store_t *s, const char *account_name, store_key_t *out);
    int (*key_list)(store_t *s, store_key_list_t *out);
    int (*key_set_enabled)(store_t *s, const char *access_key, bool enabled);
    /* Looks up a key with its account (enabled or not). */
    int (*key_lookup)(store_t *s, const char *access_key, store_key_t *out);
    /* Resolves an account by name or by one of its AccessKeys. */
    int (*account_find)(store_t *s, const char *name_or_key, int64_t *account_id);
    int (*account_count)(store_t *s, int64_t *count);

    /* The account's first domain becomes its default; make_default makes
     * NAME the default, also when it exists already (else STORE_EXISTS). */
    int (*domain_add)(store_t *s, int64_t account_id, const char *name, bool make_default);
    int (*domain_list)(store_t *s, int64_t account_id, store_domain_list_t *out);
    /* name NULL: the default domain (STORE_NOT_FOUND when the account has none). */
    int (*domain_get)(store_t *s, int64_t account_id, const char *name, store_domain_t *out);

    /* The account's playback access and key (a read, for every playback
     * request of a signed URL and every answer that lists URLs).
     * STORE_NOT_FOUND: no such account. */
    int (*playback_get)(store_t *s, int64_t account_id, store_playback_t *out);
    /* Sets it; new_key (STORE_PLAYBACK_KEY_LEN random bytes from the caller)
     * becomes the key when the account has none or `rotate`.  out receives
     * the result. */
    int (*playback_set)(store_t *s, int64_t account_id, int access, const unsigned char *new_key, bool rotate,
                        store_playback_t *out);

    /* Removals (vodup admin).  key_delete: STORE_CONFLICT when it is its
     * account's last key (an account without keys could not be reached;
     * disable it instead).  domain_remove: when it was the default, the
     * account's oldest remaining domain becomes the default; videos keep
     * the domain they were registered with.  resource_remove: by id
     * (workflow, subtitle) or name (watermark, template); plans already
     * frozen into tasks keep their copy.  STORE_NOT_FOUND when there is no
     * such key, or no such domain or resource in the account. */
    int (*key_delete)(store_t *s, const char *access_key);
    int (*domain_remove)(store_t *s, int64_t account_id, const char *name);
    int (*resource_remove)(store_t *s, int64_t account_id, int kind, const char *id);

    /* Adds a resource; out->id receives the generated (or name) id. */
    int (*resource_add)(store_t *s, int64_t account_id, int kind, const char *name,
                        const char *spec_json, store_resource_t *out);
    int (*resource_list)(store_t *s, int64_t account_id, int kind, store_resource_list_t *out);
    /* By id (workflow, subtitle) or name (watermark, template). */
    int (*resource_get)(store_t *s, int64_t account_id, int kind, const char *id,
                        store_resource_t *out);

    /* `done` runs on a store thread once the write is durable, or before
     * this returns when the registration cannot even be queued (out of
     * memory: STORE_ERROR; store closing: STORE_UNAVAILABLE). */
    void (*video_register)(store_t *s, const store_video_reg_t *reg, store_reg_done_fn done, void *arg);
    int (*video_get)(store_t *s, int64_t account_id, const char *video_id, store_video_t *out);
    int (*video_list)(store_t *s, int64_t account_id, const store_video_filter_t *filter,
                      store_video_page_t *out);

    /* ---- the upload path: synchronous writes, called off the poll threads ----
     *
     * The writes return once durable (the configured synchronous mode).  In
     * the SQLite store they are jobs of the writer thread, sharing the
     * group-committed batches of video_register, so they never wait behind
     * a competing writer; they must not be called from a `done` callback
     * (that runs on the writer thread: STORE_ERROR, logged).  A closing
     * store answers STORE_UNAVAILABLE.  Another account's video is
     * STORE_NOT_FOUND, as an unknown one. */

    /* The video whose fileKey is `file_key` in the account (account_id < 0:
     * in any account, for the playback origin; fileKeys are unique across
     * the whole database).  A read. */
    int (*video_find_by_key)(store_t *s, int64_t account_id, const char *file_key, store_video_t *out);
    /* First bytes arrived: status created or failed -> uploading, clearing
     * failReason (any other status is left alone; STORE_OK either way,
     * STORE_NOT_FOUND if none). */
    int (*video_set_uploading)(store_t *s, int64_t account_id, const char *video_id);
    /* Publishes an upload: status uploaded, size, md5, etag, mimeType,
     * object_id, uploadedAt, failReason cleared; duration, width, height and
     * codecs go back to "not probed" (they described the old bytes).  The
     * check and the set are one transaction.  When the video has an object
     * already and u->overwrite is false: STORE_CONFLICT, nothing changes.
     * *old_object_id receives the object it replaced (caller frees it and
     * removes its bytes), or NULL: also when u->object_id is the video's
     * object already.  old_object_id may be NULL (the sweep then removes the
     * old bytes).  In the same transaction, an unfinished task of the video
     * is canceled (it was processing the old bytes) and, when u->task_plan
     * is set, a new task is queued: a crash can never leave an uploaded
     * video without its task.  The video's outputs stay listed and served
     * (they describe the old bytes until the new task succeeds and replaces
     * them).  STORE_EXISTS: u->object_id belongs to another video or to a
     * served output file (an object is never shared).  STORE_INVALID: no
     * video_id or object_id, size < 0, or a task_plan that is not a JSON
     * object. */
    int (*video_set_uploaded)(store_t *s, const store_video_upload_t *u, char **old_object_id);
    /* An upload was refused after its bytes arrived (fileMd5 mismatch):
     * status failed with `reason` (required), unless the video has an object
     * already (then nothing changes; STORE_OK). */
    int (*video_set_failed)(store_t *s, int64_t account_id, const char *video_id, const char *reason);
    /* Whether any video or served output file names `object_id` (for the blob sweep).  A read; on
     * any error *in_use is true, so that a failed lookup never reads as
     * "free to remove". */
    int (*object_in_use)(store_t *s, const char *object_id, bool *in_use);
    /* The server secret called `name` (32 random bytes, made on first use
     * and kept in the database, so that every node and restart agrees).
     * Read first; only the first use writes (insert-if-absent, then read the
     * winner, so racing threads and nodes get the same bytes). */
    int (*secret_get)(store_t *s, const char *name, unsigned char out[32]);

    /* ---- processing tasks (see "processing tasks" above) ----
     *
     * The writes go through the same durable path as the upload path's
     * (in the SQLite store, jobs of the writer thread) and must not be
     * called from a `done` callback or an HTTP poll thread; task_get and
     * task_latest are reads.  Calls that name a task but not an account
     * (the worker's) answer STORE_NOT_FOUND for an unknown task. */

    /* Queues a task for the video's current bytes (reprocessVideo),
     * canceling its unfinished task if any.  The video returns to `ready`
     * if an earlier task succeeded, else to `uploaded` (failReason cleared)
     * until the new task is claimed.  STORE_CONFLICT: the video has no
     * uploaded bytes.  STORE_INVALID: plan_json is not a JSON object, or a
     * job without fops or with a notify_url but no access_key.  job: NULL,
     * or what makes the task a persistent job (POST /fops). */
    int (*task_enqueue)(store_t *s, int64_t account_id, const char *video_id, const char *plan_json,
                        const store_task_job_t *job,
                        int64_t now_ms, char task_id[STORE_TASK_ID_LEN + 1]);
    /* Takes the oldest (by creation) task that is queued with its
     * next-attempt time come, or running with its lease run out: state
     * running, lease_owner worker_id until now_ms + lease_ms, attempts + 1,
     * progress 0, video `processing`; out receives the task (free it).
     * Running tasks whose lease ran out after their last attempt are failed
     * first ("worker lost").  STORE_NOT_FOUND: nothing to run now.
     *
     * The pick and the update are one atomic step.  SQLite gets that from
     * its single writer; PostgreSQL implements the same contract with the
     * same WHERE and ORDER BY in `SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED`
     * followed by the UPDATE, in one transaction, so that concurrent
     * claimers never take the same task nor wait for each other. */
    int (*task_claim)(store_t *s, const char *worker_id, int64_t now_ms, int64_t lease_ms, store_task_t *out);
    /* Extends the lease to now_ms + lease_ms and records progress (0..100).
     * STORE_CONFLICT: the task is no longer this worker's (canceled,
     * finished, or claimed by another after the lease ran out): stop. */
    int (*task_heartbeat)(store_t *s, const char *task_id, const char *worker_id, int64_t now_ms,
                          int64_t lease_ms, int progress);
    /* Success: state succeeded, progress 100, video `ready`, and in the same
     * transaction the result published: the probe fields set, the video's
     * earlier listed outputs and served files replaced by the result's
     * (result NULL: replaced by none, the probe fields left alone); every
     * file's created_ms is now_ms.  old_objects (may be NULL) receives the
     * object ids of the replaced files, for the caller to remove, never one
     * that the result serves again.  Any other answer changes nothing at
     * all (the task stays running): STORE_CONFLICT as for task_heartbeat,
     * the caller removing the objects it made.  STORE_EXISTS: a file's key
     * is another video's file's or any video's fileKey (its own included),
     * or its object is another file's or a video's upload.  STORE_INVALID
     * (checked before anything is read): a file without key, object_id or
     * content_type, or of negative size; two files with one key or one
     * object; an output with a type out of range, no key, a key that is no
     * file's, or a negative or non-finite measure; a non-finite duration or
     * a negative width or height; a count > 0 with its array NULL. */
    int (*task_succeed)(store_t *s, const char *task_id, const char *worker_id, int64_t now_ms,
                        const store_task_result_t *result, store_id_list_t *old_objects);
    /* Failure with `error` (required).  Retryable with attempts left: back
     * to queued, claimable after a back-off (10 s after the first attempt,
     * 60 s after the second).  Otherwise: state failed, video `failed` with
     * failReason = error.  STORE_CONFLICT as for task_heartbeat. */
    int (*task_fail)(store_t *s, const char *task_id, const char *worker_id, int64_t now_ms, const char *error,
                     bool retryable);
    /* cancelTask: a queued or running task becomes canceled (its worker
     * learns it at its next heartbeat); the video returns to `ready` if an
     * earlier task of it succeeded, else to `uploaded`.  STORE_CONFLICT: the
     * task is finished already. */
    int (*task_cancel)(store_t *s, int64_t account_id, const char *task_id, int64_t now_ms);
    /* account_id < 0: any account's (the status query of a persistent job,
     * whose id is its capability). */
    int (*task_get)(store_t *s, int64_t account_id, const char *task_id, store_task_t *out);
    /* The state (enum store_delivery_state) of a persistent job's
     * notification, for the status query's codes 4, 5 and 6; -1 when it has
     * none (no notify_url, not finished yet, or pruned).  A read. */
    int (*job_notify_state)(store_t *s, const char *task_id, int *state);
    /* The video's most recently queued task (getVideoInfo's taskId and
     * progress); STORE_NOT_FOUND when it has none. */
    int (*task_latest)(store_t *s, int64_t account_id, const char *video_id, store_task_t *out);

    /* deleteVideo, in one transaction: the video's VideoDeleted event is
     * written (with event_data, the video as getVideoInfo showed it; NULL:
     * none), then the video is removed with its task (a running one's
     * worker learns at its next heartbeat, and its publish is refused),
     * its listed outputs, served files and category links.  objects (may
     * be NULL) receives the ids of the objects that held its bytes (the
     * original and every served file), for the caller to remove; the sweep
     * removes them otherwise.  STORE_NOT_FOUND: no such video in the
     * account. */
    int (*video_delete)(store_t *s, int64_t account_id, const char *video_id, int64_t now_ms, const char *event_data,
                        store_id_list_t *objects);

    /* Removes up to `limit` registrations never uploaded (no object; status
     * created, uploading or failed) whose last getUploadToken (a fileId
     * resume renews it) was before before_ms; *removed says how many.  The
     * caller repeats while it removes `limit`. */
    int (*video_expire)(store_t *s, int64_t before_ms, int limit, int64_t *removed);

    /* The video's listed outputs, the cover among them (getVideoInfo), in
     * the order the task gave them.  A read; an empty list when none;
     * STORE_NOT_FOUND for an unknown video or another account's. */
    int (*video_outputs)(store_t *s, int64_t account_id, const char *video_id, store_output_list_t *out);
    /* The served file at `key`, in any account (the playback origin).  A
     * read; STORE_NOT_FOUND when no published output has that key. */
    int (*output_file_find)(store_t *s, const char *key, store_output_file_t *out);

    /* ---- webhooks and deliveries (see "events and webhooks") ----
     * Admin and dispatcher calls; the writes are durable on return and must
     * not be called from a `done` callback or an HTTP poll thread. */

    /* Adds a webhook; out receives it with its generated id.  STORE_INVALID:
     * no url or secret, or events is 0 or has a bit past the known types. */
    int (*webhook_add)(store_t *s, int64_t account_id, const char *url, unsigned events, const char *secret,
                       store_webhook_t *out);
    int (*webhook_list)(store_t *s, int64_t account_id, store_webhook_list_t *out);
    /* Removes it and drops its pending deliveries.  STORE_NOT_FOUND: no such
     * webhook in the account. */
    int (*webhook_remove)(store_t *s, int64_t account_id, const char *webhook_id);
    /* Takes the pending delivery that has been due longest (its next attempt
     * time come, and no lease or its lease run out): leased to worker_id
     * until now_ms + lease_ms; out receives it with its event and webhook
     * (free it).  STORE_NOT_FOUND: none due.  PostgreSQL: the same WHERE and
     * ORDER BY under FOR UPDATE SKIP LOCKED, as task_claim. */
    int (*delivery_claim)(store_t *s, const char *worker_id, int64_t now_ms, int64_t lease_ms,
                          store_delivery_t *out);
    /* Freezes an event's data unless it has some already; *data_out receives
     * the event's data as it now stands (the caller frees it), so that every
     * delivery of one event sends the same body. */
    int (*delivery_set_data)(store_t *s, const char *event_id, const char *data, char **data_out);
    /* Records an attempt of a delivery this worker holds: delivered, or
     * pending again at a->next_attempt_ms, or failed (given up) when that is
     * 0; attempts + 1, the lease released.  STORE_CONFLICT: the lease is no
     * longer this worker's (nothing is recorded; another has it). */
    int (*delivery_record)(store_t *s, int64_t delivery_id, const char *worker_id, int64_t now_ms,
                           const store_delivery_attempt_t *a);
    /* The account's most recent deliveries (by last attempt, then event
     * time), of one webhook or all (webhook_id NULL), at most limit. */
    int (*delivery_list)(store_t *s, int64_t account_id, const char *webhook_id, size_t limit,
                         store_delivery_list_t *out);
    /* How many tasks are queued or running (state STORE_TASK_QUEUED or
     * STORE_TASK_RUNNING; STORE_INVALID for the others, which only grow):
     * the metrics' queue depth, cheap at any table size. */
    int (*task_count)(store_t *s, int state, int64_t *count);
    /* Whether the store answers a read now (readiness), and the bytes free
     * where it keeps its data, -1 when that is not a local disk. */
    int (*check)(store_t *s, int64_t *free_bytes);
    /* How many deliveries are pending (metrics, benchmarks). */
    int (*delivery_pending_count)(store_t *s, int64_t *count);
    /* Removes finished deliveries whose last attempt is older than
     * before_ms, and events left with no delivery. */
    int (*delivery_prune)(store_t *s, int64_t before_ms);

    /* ---- tus uploads (see "tus uploads" above); writes are durable when
     * they return, like the upload path's, and must not run on an HTTP
     * poll thread ---- */

    /* ---- upload links (see "upload links" above); writes are durable
     * when they return ---- */

    /* Records a new link.  STORE_EXISTS: the id is taken. */
    int (*link_create)(store_t *s, const store_link_t *l);
    /* Reads one (a read).  STORE_NOT_FOUND: no such link. */
    int (*link_get)(store_t *s, const char *link_id, store_link_t *out);
    /* Counts `file_id` against the link's uses, once: STORE_OK when it is
     * counted now or was before, STORE_CONFLICT when it is new and no use
     * is left, STORE_NOT_FOUND for no such link.  Expiry is the caller's. */
    int (*link_claim)(store_t *s, const char *link_id, const char *file_id, int64_t now_ms);
    /* Whether the link registered `file_id` (a read): STORE_OK or
     * STORE_NOT_FOUND. */
    int (*link_has_file)(store_t *s, const char *link_id, const char *file_id);

    /* Records a new upload, unless its account has `max_open` (> 0)
     * unfinished (STORE_TUS_OPEN) uploads of the same file_key already:
     * then STORE_CONFLICT and nothing is written; the count and the insert
     * are one atomic step.  STORE_EXISTS: the id is taken. */
    int (*tus_create)(store_t *s, const store_tus_t *u, int64_t max_open);
    /* Reads one (a read).  STORE_NOT_FOUND: no such upload. */
    int (*tus_get)(store_t *s, const char *upload_id, store_tus_t *out);
    /* Records progress.  STORE_NOT_FOUND: no such upload. */
    int (*tus_update)(store_t *s, const char *upload_id, const store_tus_progress_t *p);
    /* Removes one (termination).  STORE_NOT_FOUND: no such upload. */
    int (*tus_remove)(store_t *s, const char *upload_id);
    /* Removes at most `limit` uploads last written before before_ms and
     * returns their ids (whose blocks the caller removes). */
    int (*tus_expire)(store_t *s, int64_t before_ms, int limit, store_id_list_t *removed);
};

struct store {
    const struct store_ops *ops;
};

/* Synchronous wrapper around ops->video_register (waits for `done`), for
 * the admin command and tests. */
int store_video_register_sync(store_t *s, const store_video_reg_t *reg, store_video_reg_result_t *out);

/* ---- the embedded SQLite implementation ---- */

typedef struct store_sqlite_options {
    const char *path;       /* database file, created mode 0600 */
    bool sync_full;         /* PRAGMA synchronous=FULL (default) vs NORMAL */
    int busy_timeout_ms;    /* for admin processes sharing the file; default 5000 */
    int read_connections;   /* pooled read-only connections; default 4 */
} store_sqlite_options_t;

/* Opens (creating and migrating as needed).  NULL on failure, logged. */
store_t *store_sqlite_open(const store_sqlite_options_t *opt);

/* ---- whole databases: backup, checks, schema versions ----
 *
 * `vodup backup`, `restore` and `migrate` work on a database by its
 * location (for SQLite, the file's path; for PostgreSQL it would be a
 * connection string) instead of through an open store_t, because opening
 * migrates: these must copy, check or describe a database exactly as it
 * is, and never create one.  They are slow, whole-database operations for
 * the command line, never for a request.  On failure `err` receives one
 * sentence (errlen bytes). */

/* Copies the database at `location` into `dest_path`, which must not
 * exist, as one consistent snapshot taken while servers keep writing it
 * (SQLite: the online backup API in a single step, whose read transaction
 * never blocks a writer).  The copy is one self-contained file, durable
 * (the file and its directory synced) and checked (store_check) before
 * this returns; *version (may be NULL) receives its schema version.  The
 * source is only read: never migrated, never written.  On failure no file
 * is left at dest_path. */
int store_backup_copy(const char *location, const char *dest_path, int *version, char *err, size_t errlen);

/* The database's full consistency check (SQLite: PRAGMA integrity_check):
 * STORE_OK, or STORE_ERROR with the first problem in err. */
int store_check(const char *location, char *err, size_t errlen);

enum store_ref_kind {
    STORE_REF_OBJECT = 0, /* a blob object a video or a served output file holds */
    STORE_REF_RESOURCE,   /* a processing resource, whose spec may name a file */
};

/* Something outside the database that its rows refer to.  The strings
 * belong to the walk and last only for the callback. */
typedef struct store_ref {
    int kind;          /* enum store_ref_kind */
    const char *id;    /* the object id, or the resource id */
    int64_t size;      /* STORE_REF_OBJECT: the object's size in bytes */
    int resource_kind; /* STORE_REF_RESOURCE: enum store_resource_kind */
    const char *spec;  /* STORE_REF_RESOURCE: its spec text (process/spec.h reads it) */
} store_ref_t;

/* Calls fn for every object and every resource the database at `location`
 * refers to, reading it only.  fn returns false to stop the walk: then
 * STORE_ERROR, with err left to the callback. */
int store_refs_walk(const char *location, bool (*fn)(void *arg, const store_ref_t *ref), void *arg, char *err,
                    size_t errlen);

/* The schema version this build brings databases to, and one line on
 * what the migration to `version` (1..target) does; NULL out of range. */
int store_schema_target(void);
const char *store_schema_step_note(int version);

/* The schema version of the database at `location` (0: an empty file),
 * read without changing anything; STORE_UNAVAILABLE when it does not
 * exist.  Migrating is store_sqlite_open's (it brings the schema to
 * store_schema_target(), or fails on a newer one). */
int store_schema_version(const char *location, int *version, char *err, size_t errlen);

#endif
