/*
 * blockup.c: a minimal WCS block-protocol uploader for bench/upload.sh.
 *
 *   blockup UPLOAD_URL TOKEN FILE BLOCK_BYTES
 *
 * Uploads FILE with one `POST /mkblk/<blockSize>/<index>` per block (the
 * whole block as its only chunk), then `POST /mkfile/<fileSize>` with the
 * comma-joined ctx list, and prints the mkfile answer's "hash" on stdout.
 * Any answer other than 200 with the expected fields prints the status and
 * body on stderr and exits 1.
 *
 * Why a program rather than a curl loop: one curl process per 4 MiB block
 * (256 per GiB) would charge vodup with process start-up and a new TCP
 * connection per request, which `curl -T` to nginx does not pay. This is
 * the same libcurl the curl tool is built on, streaming the body from the
 * file through a read callback with libcurl's default 64 KiB upload buffer,
 * exactly as `curl -T` does, over one kept-alive connection. So the client
 * side of both measurements costs about the same, and what differs is the
 * server. Blocks go one after another (no parallel blocks): a single-stream
 * upload against nginx's single PUT stream.
 *
 * Build: cc -O2 -o blockup blockup.c -lcurl   (bench/upload.sh does this)
 */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The protocol's block unit; every block but the last is a multiple of it. */
#define BLOCKUP_UNIT (4LL * 1024 * 1024)
/* Answers are small JSON objects; anything longer is an error worth seeing, cut. */
#define BLOCKUP_ANSWER_MAX 4096
/* The contract caps a ctx at 200 bytes. */
#define BLOCKUP_CTX_MAX 256

/* Where the read callback takes the current block's bytes from. */
struct blockup_source {
	int fd;
	off_t pos;
	off_t end;
};

/* One response body, truncated at BLOCKUP_ANSWER_MAX - 1 bytes. */
struct blockup_answer {
	char text[BLOCKUP_ANSWER_MAX];
	size_t len;
};

static size_t blockup_read(char *out, size_t size, size_t nmemb, void *arg)
{
	struct blockup_source *src = arg;
	size_t want = size * nmemb;
	ssize_t got;

	if ((off_t)want > src->end - src->pos)
		want = (size_t)(src->end - src->pos);
	if (want == 0)
		return 0;
	do
		got = pread(src->fd, out, want, src->pos);
	while (got < 0 && errno == EINTR);
	/* A short file is an error: the request promised a Content-Length. */
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	src->pos += got;
	return (size_t)got;
}

static size_t blockup_write(char *in, size_t size, size_t nmemb, void *arg)
{
	struct blockup_answer *ans = arg;
	size_t n = size * nmemb, room = sizeof(ans->text) - 1 - ans->len;

	memcpy(ans->text + ans->len, in, n < room ? n : room);
	ans->len += n < room ? n : room;
	ans->text[ans->len] = '\0';
	return n;
}

/* Points just past `"NAME" :` in a flat JSON object, or NULL. Enough for the
 * answers here: their string values never contain quotes or escapes. */
static const char *blockup_json_value(const char *json, const char *name)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", name);
	p = strstr(json, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	p += strspn(p, " \t\r\n");
	if (*p != ':')
		return NULL;
	return p + 1 + strspn(p + 1, " \t\r\n");
}

/* Copies the string member NAME into OUT; 0 on success. */
static int blockup_json_string(const char *json, const char *name, char *out, size_t outsz)
{
	const char *p = blockup_json_value(json, name), *q;

	if (p == NULL || *p++ != '"')
		return -1;
	q = strchr(p, '"');
	if (q == NULL || q == p || (size_t)(q - p) >= outsz)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

static int blockup_json_number(const char *json, const char *name, long long *out)
{
	const char *p = blockup_json_value(json, name);
	char *end;

	if (p == NULL)
		return -1;
	*out = strtoll(p, &end, 10);
	return end == p ? -1 : 0;
}

/* Sends the request the handle is set up for; 0 when it was answered 200. */
static int blockup_perform(CURL *curl, const char *url, struct blockup_answer *ans)
{
	CURLcode rc;
	long status = 0;

	ans->len = 0;
	ans->text[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, url);
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "blockup: %s: %s\n", url, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		fprintf(stderr, "blockup: %s: HTTP %ld: %s\n", url, status, ans->text);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *base, *token, *path;
	long long block, size, nblocks, i, offset;
	struct blockup_source src = {.fd = -1};
	struct blockup_answer ans;
	struct curl_slist *headers = NULL, *mkfile_headers = NULL;
	char *auth = NULL, *ctxs = NULL, *url = NULL;
	size_t ctxs_len = 0, url_size;
	char hash[64];
	struct stat st;
	CURL *curl = NULL;
	int ret = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: blockup UPLOAD_URL TOKEN FILE BLOCK_BYTES\n");
		return 2;
	}
	base = argv[1];
	token = argv[2];
	path = argv[3];
	block = strtoll(argv[4], NULL, 10);
	if (block <= 0 || block % BLOCKUP_UNIT != 0) {
		fprintf(stderr, "blockup: BLOCK_BYTES must be a positive multiple of 4 MiB\n");
		return 2;
	}
	src.fd = open(path, O_RDONLY);
	if (src.fd < 0 || fstat(src.fd, &st) != 0) {
		fprintf(stderr, "blockup: %s: %s\n", path, strerror(errno));
		goto out;
	}
	size = st.st_size;
	nblocks = size == 0 ? 0 : (size + block - 1) / block;

	url_size = strlen(base) + 64;
	url = malloc(url_size);
	auth = malloc(strlen(token) + 32);
	ctxs = malloc((size_t)(nblocks ? nblocks : 1) * BLOCKUP_CTX_MAX);
	if (url == NULL || auth == NULL || ctxs == NULL)
		goto out;
	ctxs[0] = '\0';
	sprintf(auth, "Authorization: UpToken %s", token);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL)
		goto out;
	headers = curl_slist_append(headers, auth);
	/* No Expect: 100-continue round trip per block (bench/upload.sh sends the
	 * same empty header with curl -T to nginx). */
	headers = curl_slist_append(headers, "Expect:");
	headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
	mkfile_headers = curl_slist_append(mkfile_headers, auth);
	mkfile_headers = curl_slist_append(mkfile_headers, "Expect:");
	mkfile_headers = curl_slist_append(mkfile_headers, "Content-Type: text/plain");
	if (headers == NULL || mkfile_headers == NULL)
		goto out;
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, blockup_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &src);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, blockup_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ans);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);

	for (i = 0; i < nblocks; i++) {
		long long len = size - i * block < block ? size - i * block : block;
		char *ctx = ctxs + ctxs_len + (i > 0);

		src.pos = (off_t)(i * block);
		src.end = src.pos + (off_t)len;
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		snprintf(url, url_size, "%s/mkblk/%lld/%lld", base, len, i);
		if (blockup_perform(curl, url, &ans) != 0)
			goto out;
		if (blockup_json_string(ans.text, "ctx", ctx, BLOCKUP_CTX_MAX) != 0 ||
		    strchr(ctx, ',') != NULL || blockup_json_number(ans.text, "offset", &offset) != 0 ||
		    offset != len) {
			fprintf(stderr, "blockup: %s: unexpected answer: %s\n", url, ans.text);
			goto out;
		}
		if (i > 0)
			ctxs[ctxs_len] = ',';
		ctxs_len += (i > 0) + strlen(ctx);
	}

	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, mkfile_headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, ctxs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ctxs_len);
	snprintf(url, url_size, "%s/mkfile/%lld", base, size);
	if (blockup_perform(curl, url, &ans) != 0)
		goto out;
	if (blockup_json_string(ans.text, "hash", hash, sizeof(hash)) != 0) {
		fprintf(stderr, "blockup: %s: no hash in the answer: %s\n", url, ans.text);
		goto out;
	}
	printf("%s\n", hash);
	ret = 0;
out:
	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	curl_slist_free_all(mkfile_headers);
	curl_global_cleanup();
	free(url);
	free(auth);
	free(ctxs);
	if (src.fd >= 0)
		close(src.fd);
	return ret;
}
